/** The no-op function: answers with the `args` it was sent, as edgefn's no-op answers with its data. */
export const noop = async (event) => {
  const body = event.body ? JSON.parse(event.body) : {};
  return {
    statusCode: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ok: true, result: body.args ?? null }),
  };
};
