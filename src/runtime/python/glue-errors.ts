/**
 * Errors in the Python glue (part of GLUE_SOURCE): an exception as name, message and traceback, the glue's own
 * frames left out.
 */
// biome-ignore lint/complexity/noUselessStringRaw: Python source stays raw, so a backslash added to it stays Python's
export const GLUE_ERRORS = String.raw`
# --- Errors --------------------------------------------------------------------------------------------------------
def _keep(frame):
    return frame.filename != GLUE_FILE and not frame.filename.startswith(STDLIB + "/_pyodide") and not frame.filename.startswith(STDLIB + "/pyodide")


def _strip(te, seen):
    if te is None or id(te) in seen:
        return
    seen.add(id(te))
    te.stack = traceback.StackSummary.from_list([f for f in te.stack if _keep(f)])
    _strip(te.__cause__, seen)
    _strip(te.__context__, seen)
    for sub in getattr(te, "exceptions", None) or []:
        _strip(sub, seen)


def describe_error(exc):
    """{name, message, stack}: the traceback without the platform's frames."""
    try:
        name = type(exc).__name__
        try:
            message = str(exc)
        except BaseException:
            message = "<unprintable %s>" % name
        out = {"name": name, "message": message}
        try:
            te = traceback.TracebackException.from_exception(exc)
            _strip(te, set())
            out["stack"] = "".join(te.format())
        except BaseException:
            pass
        code = getattr(exc, "code", None)
        if isinstance(code, str):
            out["code"] = code
        if getattr(exc, "retryable", None) is True:
            out["retryable"] = True
        return out
    except BaseException:
        return {"name": "Error", "message": "The function raised an exception that could not be described"}


`;
