/**
 * HTTP in the Python glue (part of GLUE_SOURCE): Cloudflare's on_fetch(request) with Request and Response, and
 * Appwrite's main(context).
 */
// biome-ignore lint/complexity/noUselessStringRaw: Python source stays raw, so a backslash added to it stays Python's
export const GLUE_HTTP = String.raw`
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


`;
