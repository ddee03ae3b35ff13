/** The no-op function, Netlify's v1 (Lambda-style) handler: answers with the `args` it was sent. */
export const handler = async (event) => {
  const body = event.body ? JSON.parse(event.body) : {};
  return {
    statusCode: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ok: true, result: body.args ?? null }),
  };
};
