"""Plain Python, imported by handler.py: the standard library is there."""

import statistics


def describe(values):
    return {
        "count": len(values),
        "mean": statistics.fmean(values),
        "median": statistics.median(values),
        "stdev": round(statistics.pstdev(values), 3),
    }
