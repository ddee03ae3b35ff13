/**
 * The runaway guard of the Python glue (part of GLUE_SOURCE): where the JavaScript side's interrupt lands, and how
 * user code is stopped and resumed.
 */
// biome-ignore lint/complexity/noUselessStringRaw: Python source stays raw, so a backslash added to it stays Python's
export const GLUE_GUARD = String.raw`
# --- The runaway guard -------------------------------------------------------------------------------------------
# The JavaScript side's interrupt buffer reads as SIGINT once a stretch of synchronous Python has run past its limit,
# and keeps reading so until the event loop turns. The handler raises where user code runs (the innermost frame that
# is not the standard library's): a loop that swallows the error is interrupted again. The glue's own frames never are.

def _decisive(frame):
    while frame is not None:
        name = frame.f_code.co_filename
        if name == GLUE_FILE:
            return "glue"
        if not (name.startswith(STDLIB) or name.startswith("<frozen")):
            return "user"
        frame = frame.f_back
    return None


_STOP_MESSAGE = "Python ran past the stretch limit without yielding to the event loop: a runaway loop?"
_handling = False
_stopping = False
_MON = sys.monitoring
_TOOL = 4


def _is_user_code(code):
    name = code.co_filename
    return name != GLUE_FILE and not (name.startswith(STDLIB) or name.startswith("<frozen"))


def _on_line(code, line):
    if _stopping and _is_user_code(code):
        raise StretchLimitError(_STOP_MESSAGE)


def _stop_user_code():
    """From the first interrupt on, every line of user code raises (a loop that catches the error ends too)."""
    global _stopping
    if _stopping:
        return
    _stopping = True
    try:
        if _MON.get_tool(_TOOL) is None:
            _MON.use_tool_id(_TOOL, "edgefn-guard")
            _MON.register_callback(_TOOL, _MON.events.LINE, _on_line)
        _MON.set_events(_TOOL, _MON.events.LINE)
    except Exception:
        pass


def _resume_user_code():
    """The runaway call has ended: user code runs freely again."""
    global _stopping
    if not _stopping:
        return
    _stopping = False
    try:
        _MON.set_events(_TOOL, 0)
    except Exception:
        pass


def _on_interrupt(signum, frame):
    global _handling
    if _handling:
        return
    _handling = True
    try:
        user = _decisive(frame) == "user"
        if user:
            _stop_user_code()
    finally:
        _handling = False
    if user:
        raise StretchLimitError(_STOP_MESSAGE)


signal.signal(signal.SIGINT, _on_interrupt)


`;
