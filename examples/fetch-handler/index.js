/**
 * A standard Worker module. On invoke, edgefn sends the args to `fetch` as a JSON POST and takes the JSON
 * response as the result; a non-2xx response makes the call fail.
 */
export default {
  async fetch(request) {
    const data = await request.json();
    if (typeof data?.text !== "string") {
      return Response.json({ error: "text is required" }, { status: 400 });
    }
    const words = data.text.split(/\s+/).filter((w) => w !== "");
    const longest = words.reduce((a, b) => (b.length > a.length ? b : a), "");
    return Response.json({ words: words.length, longest });
  },
};
