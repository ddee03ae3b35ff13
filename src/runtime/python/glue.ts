/**
 * The Python half of a Python isolate (see entry.ts for the JavaScript half): the module `_edgefn_glue`, run as
 * `<edgefn>` so its frames are known and left out of tracebacks. It holds no JavaScript object until `attach`, so it
 * can be part of a memory snapshot. Every entry point the JavaScript side calls is a coroutine: each call runs as its
 * own asyncio task, with its own context, which is what keeps the logs of concurrent calls apart (a ContextVar).
 */
import { GLUE_ERRORS } from "./glue-errors";
import { GLUE_GUARD } from "./glue-guard";
import { GLUE_HANDLER } from "./glue-handler";
import { GLUE_HTTP } from "./glue-http";
import { GLUE_LOGS } from "./glue-logs";

export const GLUE_MODULE = "_edgefn_glue";
export const GLUE_FILENAME = "<edgefn>";
/** Where the function's files live in the interpreter's file system (first on sys.path). */
export const USER_DIR = "/function";

// biome-ignore lint/complexity/noUselessStringRaw: Python source stays raw, so a backslash added to it stays Python's
const HEAD = String.raw`
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


`;

// biome-ignore lint/complexity/noUselessStringRaw: Python source stays raw, so a backslash added to it stays Python's
const ENTRY_POINTS = String.raw`
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


async def _in_call(key, work):
    """Awaits work() (the handler's value) as the call \`key\` (its output goes to that call's logs): the outcome as JSON."""
    call = _Call(key)
    _call.set(call)
    try:
        return json.dumps({"ok": True, "result": _json_text(await work())})
    except BaseException as exc:
        return json.dumps({"ok": False, "error": describe_error(exc)})
    finally:
        _resume_user_code()
        call.flush()


async def invoke(key, args_json, call_json):
    """handle(data, ctx), or Cognite's handle(data, client, secrets, function_call_info): the outcome as JSON."""

    async def work():
        ctx = Context(key, json.loads(call_json))
        fn = _user.handle
        args, kwargs = await _arguments(fn, json.loads(args_json), ctx, key)
        return await _settle(fn(*args, **kwargs))

    return await _in_call(key, work)


_later = {}


def invoke_now(key, args_json, call_json):
    """invoke for a handle() defined with def that needs nothing from the host first, run to its end at once: no task,
    no turn of the event loop. No other call runs meanwhile, so the call's log context set for its duration keeps its
    output apart. None when the handler must run as a task (async def, or Cognite's function_call_info); an outcome
    of {"later": true} when it returned something to await (settle_later awaits it)."""
    fn = _user.handle
    kind, detail = _shape(fn)
    if inspect.iscoroutinefunction(fn) or (kind == "cognite" and "function_call_info" in detail):
        return None
    call = _Call(key)
    token = _call.set(call)
    try:
        ctx = Context(key, json.loads(call_json))
        data = json.loads(args_json)
        if kind == "cognite":
            given = {"data": data, "client": ctx.client, "secrets": ctx.secrets}
            value = fn(**{n: given[n] for n in detail})
        else:
            value = fn(*(data, ctx)[:detail])
        if inspect.isawaitable(value):
            _later[key] = value
            return '{"later":true}'
        return json.dumps({"ok": True, "result": _json_text(value)})
    except BaseException as exc:
        return json.dumps({"ok": False, "error": describe_error(exc)})
    finally:
        call.flush()
        _call.reset(token)
        _resume_user_code()


async def settle_later(key):
    """What invoke_now's handler returned to await, awaited in the call's own task."""
    return await _in_call(key, lambda: _settle(_later.pop(key)))


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

export const GLUE_SOURCE = HEAD + GLUE_GUARD + GLUE_LOGS + GLUE_ERRORS + GLUE_HANDLER + GLUE_HTTP + ENTRY_POINTS;
