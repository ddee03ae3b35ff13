import { type Context, Hono, type HonoRequest, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { matchedRoutes } from "hono/route";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { ServiceContext } from "../../domain/context";
import { authenticate } from "../../domain/keys/authenticate";
import type { AppEnv, Env, Principal } from "../../env";
import { bodyCapError, bodyLimit, tooLarge } from "../../lib/body-cap";
import { ApiError, badRequest } from "../../lib/errors";
import { requestContext } from "../context";
import { HTTP_CODES, zodMessage } from "../router";

/**
 * The compatibility kit: what every surface (Appwrite, Cognite, Gcore, Supabase) does the same way. A surface says
 * where its key is and what its errors look like; the kit gives it a router that checks the key (making the
 * principal and the service context), reads JSON bodies with zod, and answers every failure in the surface's shape.
 */

/** A router of a surface: the app's env plus the service context of the authenticated request, and `V`. */
export type CompatEnv<V extends object = object> = {
  Bindings: AppEnv["Bindings"];
  Variables: AppEnv["Variables"] & { ctx: ServiceContext } & V;
};

/** An error as a surface answers it. */
export interface Rendered {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface Surface {
  /** The key as an Authorization value (`Bearer <key>`), read from where this surface carries it; undefined: none. */
  credential: (req: HonoRequest) => string | undefined;
  /**
   * A principal the surface establishes itself, before any key is looked up: a credential of its own (an
   * Appwrite execution's signed key), or the anonymous principal where it lets requests without a key through.
   * undefined: none, look for a key.
   */
  principal?: (req: HonoRequest, env: Env) => Promise<Principal | undefined>;
  /** The 401's message when `credential` finds nothing (default: the native API's). */
  missingKey?: string;
  /** The surface's error shape for an ApiError (`requestId` for shapes that carry it). */
  toBody: (err: ApiError, requestId: string) => Rendered;
  /** Where the key is checked (default: every path of the surface). */
  authOn?: string;
  /** A request no route of the surface serves gets the surface's 404 without a key (else it needs one first). */
  keylessNotFound?: boolean;
}

export const BAD_JSON = "Body is not valid JSON";

/** What a thrown value means for the caller: an ApiError, or null for a failure of the platform's own. */
function asApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  // Hono's own rejections keep their status.
  if (err instanceof HTTPException) return new ApiError(HTTP_CODES[err.status] ?? "bad_request", err.message);
  if (err instanceof SyntaxError) return badRequest(BAD_JSON);
  return null;
}

/** Whether the request reached one of the surface's routes (not only middleware and catch-alls). */
const reachesRoute = (c: Context) => matchedRoutes(c).some((r) => !r.path.endsWith("*"));

/** The router of a surface: its key check and its error shape, for the routes the surface adds. */
export function compatRouter<V extends object = object>(surface: Surface): Hono<CompatEnv<V>> {
  const router = new Hono<CompatEnv<V>>();

  router.onError((raw, c) => {
    const requestId = c.get("requestId") ?? crypto.randomUUID();
    // A body past its cap makes every read of it fail: whatever the route made of that, the answer is 413.
    let err = bodyCapError(c.req.raw) ?? asApiError(raw);
    if (!err) {
      const error = raw instanceof Error ? (raw.stack ?? raw.message) : String(raw);
      console.error(JSON.stringify({ requestId, error }));
      err = new ApiError("internal_error", "Internal error");
    }
    const out = surface.toBody(err, requestId);
    return c.json(out.body, out.status as ContentfulStatusCode, out.headers);
  });

  const checkKey: MiddlewareHandler<CompatEnv> = async (c, next) => {
    // A body declared larger than its cap is refused before anything else.
    const capped = bodyCapError(c.req.raw);
    if (capped) throw capped;
    if (surface.keylessNotFound && !reachesRoute(c)) return next();
    let principal = await surface.principal?.(c.req, c.env);
    if (!principal) {
      const credential = surface.credential(c.req);
      if (credential === undefined && surface.missingKey) throw new ApiError("unauthorized", surface.missingKey);
      principal = await authenticate(c.env, credential);
    }
    c.set("principal", principal);
    c.set("ctx", { ...requestContext(c), principal });
    await next();
  };
  router.use(surface.authOn ?? "*", checkKey as unknown as MiddlewareHandler<CompatEnv<V>>);
  return router;
}

/**
 * The request's body as text. A body sent with `Content-Encoding: gzip` (Cognite's Python SDK compresses every JSON
 * body it sends) is inflated, to at most the route's body cap; any other encoding is a 415.
 */
async function bodyText(c: Context): Promise<string> {
  const encoding = (c.req.header("content-encoding") ?? "").trim().toLowerCase();
  if (encoding === "" || encoding === "identity") return c.req.text();
  if (encoding !== "gzip" && encoding !== "x-gzip") {
    throw new ApiError("unsupported_media_type", "Content-Encoding: send the body as is, or gzip-compressed");
  }
  const body = c.req.raw.body;
  if (!body) return "";
  const limit = bodyLimit(new URL(c.req.url).pathname, false);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of body.pipeThrough(
      new DecompressionStream("gzip"),
    ) as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw badRequest("The body is not valid gzip");
  }
  const decoder = new TextDecoder();
  return chunks.map((chunk) => decoder.decode(chunk, { stream: true })).join("") + decoder.decode();
}

/** The request's JSON body checked against `schema`: a body that is not JSON or does not match is a 400. */
export async function readJson<T extends z.ZodType>(
  c: Context,
  schema: T,
  options: { required?: boolean } = {},
): Promise<z.infer<T>> {
  const text = await bodyText(c);
  let value: unknown = {};
  if (text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch {
      throw badRequest(BAD_JSON);
    }
  } else if (options.required) throw badRequest("The request needs a JSON body");
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw badRequest(`Invalid body: ${zodMessage(parsed.error)}`);
  return parsed.data;
}

/** `Authorization: Bearer <key>`, as the native API takes it. */
export const bearer = (req: HonoRequest) => req.header("authorization");
