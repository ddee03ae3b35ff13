/**
 * What a handler receives, in the Python glue (part of GLUE_SOURCE): ctx and its client, and Cognite's arguments by
 * name, function_call_info with the ids the Cognite surface shows (asked of the host).
 */
// biome-ignore lint/complexity/noUselessStringRaw: Python source stays raw, so a backslash added to it stays Python's
export const GLUE_HANDLER = String.raw`
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


_shapes = {}


def _shape(fn):
    """How handle() takes its arguments, worked out once per function object: Cognite's names it declares, else how
    many of (data, ctx) it takes."""
    known = _shapes.get(id(fn))
    if known is not None and known[0] is fn:
        return known[1]
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        shape = ("plain", 2)
    else:
        if any(n in params for n in COGNITE[1:]):
            shape = ("cognite", tuple(n for n in COGNITE if n in params))
        else:
            positional = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            takes_rest = any(p.kind == p.VAR_POSITIONAL for p in params.values())
            shape = ("plain", 2 if takes_rest else min(len(positional), 2))
    if len(_shapes) >= 64:
        _shapes.clear()
    _shapes[id(fn)] = (fn, shape)
    return shape


async def _arguments(fn, data, ctx, key):
    """The arguments of handle(): Cognite's by name, those it declares; else (data, ctx) as far as it takes them."""
    kind, detail = _shape(fn)
    if kind == "cognite":
        given = {"data": data, "client": ctx.client, "secrets": ctx.secrets}
        if "function_call_info" in detail:
            given["function_call_info"] = await _call_info(key, ctx)
        return (), {n: given[n] for n in detail}
    return (data, ctx)[:detail], {}


async def _settle(value):
    while inspect.isawaitable(value):
        value = await value
    return value


`;
