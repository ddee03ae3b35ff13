"""A Python function with a third-party package: slugkit comes from the wheel in wheels/, as requirements.txt asks."""

import slugkit


def handle(data):
    title = data.get("title", "")
    return {"slug": slugkit.slugify(title), "initials": slugkit.initials(title), "slugkit": slugkit.__version__}
