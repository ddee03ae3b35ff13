/**
 * The smallest edgefn function: `data` is the invoke request's `args` (null when there are none), and the
 * return value is the call's result.
 */
export async function handle(data) {
  const name = data?.name ?? "world";
  return { message: `Hello, ${name}!` };
}
