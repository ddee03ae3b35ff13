/**
 * The Python half of a Python isolate (see entry.ts for the JavaScript half): the module `_edgefn_glue`, run as
 * `<edgefn>` so its frames are known and left out of tracebacks. It holds no JavaScript object until `attach`, so it
 * can be part of a memory snapshot. Every entry point the JavaScript side calls is a coroutine: each call runs as its
 * own asyncio task, with its own context, which is what keeps the logs of concurrent calls apart (a ContextVar).
 */
export const GLUE_MODULE = "_edgefn_glue";
export const GLUE_FILENAME = "<edgefn>";
/** Where the function's files live in the interpreter's file system (first on sys.path). */
export const USER_DIR = "/function";

export const GLUE_SOURCE = String.raw`
import asyncio
import contextvars
import importlib
import inspect
import io
import json
import logging
import os
import random
import signal
import sys
import traceback
import types

USER_DIR = "${USER_DIR}"
GLUE_FILE = "${GLUE_FILENAME}"
STDLIB = "/lib/python%d%d.zip" % sys.version_info[:2]

sys.dont_write_bytecode = True
if USER_DIR not in sys.path:
    sys.path.insert(0, USER_DIR)

# The JavaScript bridge (log, client): attached after boot or restore, never present in a snapshot.
_host = None
_env = {}
_secret_names = []
_user = None
_kind = None


class StretchLimitError(Exception):
    pass


StretchLimitError.__module__ = "edgefn"


class ResultError(Exception):
    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


ResultError.__module__ = "edgefn"


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


# --- What a handler receives ---------------------------------------------------------------------------------------
class Client:
    """ctx.client: invoke another function of the workspace, read this function's calls (async)."""

    def __init__(self, key):
        self._key = key

    async def invoke(self, function, args=None):
        answer = await _host.invoke(self._key, str(function), json.dumps(args))
        return json.loads(answer)

    async def calls(self, limit=20):
        answer = await _host.calls(self._key, int(limit))
        return json.loads(answer)


class Context:
    """ctx of handle(data, ctx): env, secrets, call, log, client."""

    def __init__(self, key, call):
        self.env = dict(_env)
        self.secrets = {name: _env[name] for name in _secret_names if name in _env}
        self.call = dict(call)
        self.client = Client(key)

    def log(self, *parts):
        _say("info", parts)

    def __repr__(self):
        return "Context(call=%r)" % (self.call,)


COGNITE = ("data", "client", "secrets", "function_call_info")


async def _call_info(key, ctx):
    """Cognite's function_call_info: the call's ids as the Cognite surface shows them (integers), from the host; the
    call's own (edgefn) ids when the isolate runs without the host's client, which never happens on the platform."""
    answer = await _host.callInfo(key)
    if answer is not None:
        return json.loads(answer)
    info = {"function_id": ctx.call.get("functionId"), "call_id": ctx.call.get("callId")}
    if ctx.call.get("scheduleId") is not None:
        info["schedule_id"] = ctx.call.get("scheduleId")
        info["scheduled_time"] = ctx.call.get("scheduledTime")
    return info


async def _arguments(fn, data, ctx, key):
    """The arguments of handle(): Cognite's by name, those it declares; else (data, ctx) as far as it takes them."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return (data, ctx), {}
    if any(n in params for n in COGNITE[1:]):
        given = {"data": data, "client": ctx.client, "secrets": ctx.secrets}
        if "function_call_info" in params:
            given["function_call_info"] = await _call_info(key, ctx)
        return (), {n: given[n] for n in COGNITE if n in params}
    positional = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes_rest = any(p.kind == p.VAR_POSITIONAL for p in params.values())
    count = 2 if takes_rest else min(len(positional), 2)
    return (data, ctx)[:count], {}


async def _settle(value):
    while inspect.isawaitable(value):
        value = await value
    return value


# --- HTTP: Cloudflare's on_fetch(request) and Appwrite's main(context) --------------------------------------------
class Headers(dict):
    """Request headers: lower-case names, looked up whatever the case."""

    def __init__(self, pairs=()):
        super().__init__((str(k).lower(), str(v)) for k, v in dict(pairs).items())

    def get(self, name, default=None):
        return super().get(str(name).lower(), default)

    def __getitem__(self, name):
        return super().__getitem__(str(name).lower())

    def __contains__(self, name):
        return super().__contains__(str(name).lower())


class Request:
    """What on_fetch receives (after Cloudflare's Python Workers): method, url, headers, body; text(), json(), bytes()."""

    def __init__(self, method, url, headers, body):
        self.method = method
        self.url = url
        self.headers = Headers(headers)
        self.body = body

    async def bytes(self):
        return self.body

    async def text(self):
        return self.body.decode("utf-8", errors="replace")

    async def json(self):
        return json.loads(self.body or b"null")

    def __repr__(self):
        return "Request(%s %s)" % (self.method, self.url)


class Response:
    """What on_fetch returns: Response(body, status=200, headers=None), Response.json(data), Response.redirect(url)."""

    def __init__(self, body=None, status=200, headers=None, status_text=None):
        self.body = body
        self.status = int(status)
        self.headers = dict(headers or {})
        self.status_text = status_text

    @classmethod
    def json(cls, data, status=200, headers=None):
        merged = {"content-type": "application/json"}
        merged.update(headers or {})
        return cls(json.dumps(data), status, merged)

    @classmethod
    def redirect(cls, url, status=302):
        return cls(None, status, {"location": str(url)})


def _body_bytes(body):
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


async def _reply_of(out):
    """A handler's answer as (status, headers, body bytes)."""
    if isinstance(out, Response):
        return out.status, {str(k).lower(): str(v) for k, v in out.headers.items()}, _body_bytes(out.body)
    if isinstance(out, _AppwriteReply):
        return out.status, out.headers, _body_bytes(out.body)
    if type(out).__name__ == "JsProxy" and hasattr(out, "status") and hasattr(out, "arrayBuffer"):
        headers = {}
        for pair in out.headers.entries():
            k, v = pair
            headers[str(k)] = str(v)
        data = await out.arrayBuffer()
        return int(out.status), headers, data.to_bytes()
    if isinstance(out, (dict, list)):
        return 200, {"content-type": "application/json"}, json.dumps(out).encode("utf-8")
    if isinstance(out, (str, bytes, bytearray, memoryview)) or out is None:
        return 200, {"content-type": "text/plain;charset=UTF-8"}, _body_bytes(out)
    raise ResultError("on_fetch must return a Response (from workers import Response)", "no_response")


class _AppwriteReply:
    def __init__(self, body, status, headers):
        self.body = body
        self.status = int(status)
        self.headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def _status(status_code, kw):
    return kw.get("statusCode", status_code if status_code is not None else 200)


class AppwriteResponse:
    """context.res: send, text, json, binary, redirect, empty (each returns what main() must return)."""

    def send(self, body="", status_code=None, headers=None, **kw):
        return _AppwriteReply("" if body is None else str(body), _status(status_code, kw), headers)

    def text(self, body, status_code=None, headers=None, **kw):
        merged = {"content-type": "text/plain"}
        merged.update(headers or {})
        return _AppwriteReply(str(body), _status(status_code, kw), merged)

    def json(self, obj, status_code=None, headers=None, **kw):
        merged = {"content-type": "application/json"}
        merged.update(headers or {})
        return _AppwriteReply(json.dumps(obj), _status(status_code, kw), merged)

    def binary(self, data, status_code=None, headers=None, **kw):
        merged = {"content-type": "application/octet-stream"}
        merged.update(headers or {})
        return _AppwriteReply(bytes(data), _status(status_code, kw), merged)

    def redirect(self, url, status_code=None, headers=None, **kw):
        merged = dict(headers or {})
        merged["location"] = str(url)
        return _AppwriteReply("", kw.get("statusCode", status_code or 301), merged)

    def empty(self):
        return _AppwriteReply("", 204, {})


class AppwriteRequest:
    """context.req: body_text, body_json, body_raw, body_binary, body, headers, method, path, query, url, ..."""

    def __init__(self, method, url, headers, body):
        from urllib.parse import urlsplit, parse_qsl

        parts = urlsplit(url)
        self.headers = {str(k).lower(): str(v) for k, v in headers.items()}
        self.body_binary = body
        self.body_text = body.decode("utf-8", errors="replace")
        self.body_raw = self.body_text
        try:
            self.body_json = json.loads(self.body_text) if self.body_text else None
        except ValueError:
            self.body_json = None
        is_json = "application/json" in self.headers.get("content-type", "")
        self.body = self.body_json if is_json else self.body_text
        self.method = method
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.path = parts.path or "/"
        self.query_string = parts.query
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.url = url


class AppwriteContext:
    def __init__(self, request):
        self.req = request
        self.res = AppwriteResponse()

    def log(self, *parts):
        _say("info", parts)

    def error(self, *parts):
        _say("error", parts)


# --- Entry points (called by the JavaScript side) -----------------------------------------------------------------
def install_modules():
    """A 'workers' module (Response, Request), as Cloudflare's Python Workers have, unless the function has its own."""
    if "workers" in sys.modules or os.path.exists(os.path.join(USER_DIR, "workers.py")) or os.path.isdir(os.path.join(USER_DIR, "workers")):
        return
    mod = types.ModuleType("workers")
    mod.Response = Response
    mod.Request = Request
    sys.modules["workers"] = mod


def _enter_user_dir():
    """The function's files are its working folder: open("data/x.csv") reads the upload's data/x.csv."""
    if os.path.isdir(USER_DIR):
        os.chdir(USER_DIR)


def attach(host, env_json, secret_names_json):
    """After boot or restore: the JavaScript bridge, the env, the streams, the logging handler, fresh randomness."""
    global _host, _env, _secret_names
    _host = host
    _env = json.loads(env_json)
    _secret_names = json.loads(secret_names_json)
    os.environ.update({str(k): str(v) for k, v in _env.items()})
    _enter_user_dir()
    sys.stdout = _Stream("info", "<stdout>")
    sys.stderr = _Stream("error", "<stderr>")
    root = logging.getLogger()
    if not any(isinstance(h, _LogHandler) for h in root.handlers):
        root.addHandler(_LogHandler())
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    random.seed()


def _module_name(entry):
    name = entry[:-3] if entry.endswith(".py") else entry
    if name.endswith("/__init__"):
        name = name[: -len("/__init__")]
    return name.replace("/", ".")


def _kinds(mod):
    handle = callable(getattr(mod, "handle", None))
    appwrite = not handle and callable(getattr(mod, "main", None))
    fetch = callable(getattr(mod, "on_fetch", None))
    return {"handle": handle, "fetch": fetch or appwrite, "appwrite": appwrite}


def load_now(entry):
    """Imports the function's module (at snapshot time: no call, its output is the build's)."""
    global _user, _kind
    install_modules()
    _enter_user_dir()
    _user = importlib.import_module(_module_name(entry))
    _kind = _kinds(_user)
    return json.dumps(_kind)


def prepare(entry):
    """load_now for the snapshot: JSON of its handlers, or the error."""
    try:
        load_now(entry)
        return json.dumps({"ok": True, "kind": _kind})
    except BaseException as exc:
        return json.dumps({"ok": False, "error": describe_error(exc)})
    finally:
        _resume_user_code()


async def load(key, entry):
    """Imports the function's module inside a call (its output is that call's); JSON of its handlers, or an error."""
    call = _Call(key)
    _call.set(call)
    try:
        if _user is None:
            load_now(entry)
        return json.dumps({"ok": True, "kind": _kind})
    except BaseException as exc:
        return json.dumps({"ok": False, "error": describe_error(exc)})
    finally:
        _resume_user_code()
        call.flush()


def _json_text(value):
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ResultError("The result is not JSON-serializable: %s" % exc, "invalid_result")


async def invoke(key, args_json, call_json):
    """handle(data, ctx), or Cognite's handle(data, client, secrets, function_call_info): the outcome as JSON."""
    call = _Call(key)
    _call.set(call)
    try:
        ctx = Context(key, json.loads(call_json))
        fn = _user.handle
        args, kwargs = await _arguments(fn, json.loads(args_json), ctx, key)
        value = await _settle(fn(*args, **kwargs))
        return json.dumps({"ok": True, "result": _json_text(value)})
    except BaseException as exc:
        return json.dumps({"ok": False, "error": describe_error(exc)})
    finally:
        _resume_user_code()
        call.flush()


async def serve(key, method, url, headers_json, body, call_json):
    """An HTTP request to on_fetch or Appwrite's main: [meta JSON, body bytes]; meta has status and headers, or error."""
    call = _Call(key)
    _call.set(call)
    try:
        data = body.to_bytes() if hasattr(body, "to_bytes") else (bytes(body) if body is not None else b"")
        headers = json.loads(headers_json)
        if _kind["appwrite"]:
            out = await _settle(_user.main(AppwriteContext(AppwriteRequest(method, url, headers, data))))
            if not isinstance(out, _AppwriteReply):
                raise ResultError("The Appwrite handler must return one of res.send/json/text/binary/empty/redirect", "no_response")
        else:
            fn = _user.on_fetch
            request = Request(method, url, headers, data)
            ctx = Context(key, json.loads(call_json))
            try:
                count = len([p for p in inspect.signature(fn).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
            except (TypeError, ValueError):
                count = 1
            out = await _settle(fn(*(request, dict(_env), ctx)[: max(1, min(count, 3))]))
        status, out_headers, out_body = await _reply_of(out)
        return [json.dumps({"status": status, "headers": out_headers}), out_body]
    except BaseException as exc:
        return [json.dumps({"error": describe_error(exc)}), b""]
    finally:
        _resume_user_code()
        call.flush()
`;
