"""A Python HTTP function: on_fetch answers every request to the function's URL, as in Cloudflare's Python Workers."""

from urllib.parse import parse_qs, urlparse

from workers import Response


async def on_fetch(request):
    url = urlparse(request.url)
    if request.method == "GET":
        name = parse_qs(url.query).get("name", ["world"])[0]
        return Response.json({"message": f"Hello, {name}!", "path": url.path})
    if request.method == "POST":
        body = await request.json()
        items = body.get("items", [])
        if not isinstance(items, list):
            return Response.json({"error": "items must be a list"}, status=400)
        return Response.json({"count": len(items), "total": sum(i.get("price", 0) for i in items)})
    return Response("Only GET and POST", status=405, headers={"allow": "GET, POST"})
