/** The no-op function, Netlify's v2 (web platform) handler: answers with the `args` it was sent. */
export default async (request) => {
  const body = await request.json().catch(() => ({}));
  return Response.json({ ok: true, result: body.args ?? null });
};
