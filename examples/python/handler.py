"""Summary statistics of a list of numbers: the shape of a Cognite function, on edgefn."""

import logging

from stats import describe

log = logging.getLogger("stats")


def handle(data, function_call_info):
    values = data.get("values")
    if not isinstance(values, list) or not values:
        raise ValueError("values must be a non-empty list of numbers")
    log.info("call %s: %d values", function_call_info["call_id"], len(values))
    return describe(values)
