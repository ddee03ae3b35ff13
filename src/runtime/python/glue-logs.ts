/**
 * Log capture in the Python glue (part of GLUE_SOURCE): print() and logging of each call, kept apart by a ContextVar
 * and sent to the host's log store.
 */
export const GLUE_LOGS = String.raw`
# --- Logs ----------------------------------------------------------------------------------------------------------
class _Call:
    __slots__ = ("key", "partial")

    def __init__(self, key):
        self.key = key
        self.partial = {}

    def line(self, level, text):
        if _host is not None:
            _host.log(self.key, level, text)

    def flush(self):
        for level, rest in list(self.partial.items()):
            if rest:
                self.line(level, rest)
        self.partial.clear()


_call = contextvars.ContextVar("edgefn_call", default=None)


class _Stream(io.TextIOBase):
    """sys.stdout / sys.stderr: each line goes to the logs of the call whose task writes it (or nowhere)."""

    def __init__(self, level, name):
        self._level = level
        self._name = name

    @property
    def name(self):
        return self._name

    @property
    def encoding(self):
        return "utf-8"

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, text):
        text = str(text)
        call = _call.get()
        if call is None:
            return len(text)
        buffered = call.partial.get(self._level, "") + text
        *lines, rest = buffered.split("\n")
        for line in lines:
            call.line(self._level, line)
        call.partial[self._level] = rest
        return len(text)

    def flush(self):
        pass


def _level_of(levelno):
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warn"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


class _LogHandler(logging.Handler):
    """The root logger's handler: a record is one log line of the current call, at its level."""

    def emit(self, record):
        call = _call.get()
        if call is None:
            return
        try:
            message = self.format(record)
        except Exception:
            message = str(record.msg)
        call.line(_level_of(record.levelno), message)


def _say(level, parts):
    call = _call.get()
    if call is not None:
        call.line(level, " ".join(p if isinstance(p, str) else str(p) for p in parts))


`;
