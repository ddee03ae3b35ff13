/** The no-op function as a bare Worker: answers with the `args` it was sent, as the other peers do. */
export default {
  async fetch(request) {
    const body = request.method === "POST" ? await request.json().catch(() => ({})) : {};
    return Response.json({ ok: true, result: body.args ?? null });
  },
};
