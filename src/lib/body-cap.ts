import { ApiError } from "./errors";
import { LIMITS } from "./limits";

/**
 * Request bodies are capped while they stream: a body past its route's limit is refused with 413 after at most
 * the limit has been read, whether or not Content-Length was sent (a Content-Length over the limit is refused
 * before anything is read). The cap is set before any route runs, so no handler can buffer more.
 */

/** Requests whose body went past its cap: whatever a route made of the broken read, the answer is 413. */
const exceeded = new WeakMap<Request, number>();

export function tooLarge(limit: number): ApiError {
  return new ApiError("payload_too_large", `The request body is larger than ${limit} bytes`);
}

/** The cap of a route's body, by its path (and host: a function's own origin streams to the function). */
export function bodyLimit(pathname: string, functionOrigin: boolean): number {
  if (functionOrigin || pathname.startsWith("/run/") || pathname.startsWith("/functions/v1/")) {
    return LIMITS.body.http;
  }
  // Code uploads: the native versions route, Cognite's function create and file upload URLs, Gcore's function
  // create/update, Appwrite deployments.
  if (
    /^\/api\/functions\/[^/]+\/versions\/?$/.test(pathname) ||
    /^\/api\/v1\/projects\/[^/]+\/functions\/?$/.test(pathname) ||
    /^\/api\/v1\/files\/upload\/[^/]+$/.test(pathname) ||
    /^\/cloud\/v1\/faas\/namespaces\/[^/]+\/[^/]+\/[^/]+\/functions(\/[^/]+)?\/?$/.test(pathname)
  ) {
    return LIMITS.body.upload;
  }
  if (/^\/v1\/functions\/[^/]+\/deployments\/?$/.test(pathname)) return LIMITS.body.chunk;
  return LIMITS.body.json;
}

/**
 * The request with its body capped at `limit` bytes. A body with a Content-Length within the limit needs no
 * counting (the connection delivers no more than declared); one declared over it is refused before a byte is read.
 * Either way a route that reads past the limit gets an error, and the request answers 413 (see bodyCapError).
 */
export function capBody(request: Request, limit: number): Request {
  if (!request.body) return request;
  const declared = request.headers.get("content-length");
  const n = declared === null ? Number.NaN : Number(declared);
  if (Number.isSafeInteger(n) && n >= 0 && n <= limit) return request;
  let seen = 0;
  const over = declared !== null && n > limit;
  const counted = over
    ? new ReadableStream<Uint8Array>({ start: (controller) => controller.error(tooLarge(limit)) })
    : request.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            seen += chunk.byteLength;
            if (seen > limit) {
              exceeded.set(capped, limit);
              controller.error(tooLarge(limit));
            } else controller.enqueue(chunk);
          },
        }),
      );
  if (over) request.body.cancel().catch(() => {});
  const capped = new Request(request, { body: counted });
  if (over) exceeded.set(capped, limit);
  return capped;
}

/** 413 if this request's body went past its cap (a route may have taken the broken read for bad input). */
export function bodyCapError(request: Request): ApiError | null {
  const limit = exceeded.get(request);
  return limit === undefined ? null : tooLarge(limit);
}
