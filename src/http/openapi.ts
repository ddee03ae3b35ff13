import { z } from "@hono/zod-openapi";
import { ERROR_STATUS, type ErrorCode } from "../lib/errors";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      requestId: z.string(),
    }),
  })
  .openapi("Error");

const DESCRIPTIONS: Partial<Record<ErrorCode, string>> = {
  bad_request: "The request is malformed or a field is invalid",
  unauthorized: "Missing, invalid or expired API key",
  forbidden: "The key's role or scope does not allow this",
  not_found: "No such object, or it is in a workspace this key cannot see",
  conflict: "The request conflicts with the object's current state",
  payload_too_large: "The body is larger than the limit",
  rate_limited: "Too many requests: retry after the Retry-After header's seconds",
  function_failed: "The function's handler threw or did not answer in time",
};

/** OpenAPI response entries for the errors a route can answer with. */
export function errors(...codes: ErrorCode[]) {
  const all: ErrorCode[] = ["unauthorized", ...codes];
  return Object.fromEntries(
    all.map((code) => [
      ERROR_STATUS[code],
      { description: DESCRIPTIONS[code] ?? code, content: { "application/json": { schema: ErrorSchema } } },
    ]),
  );
}

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

export function body<T extends z.ZodType>(schema: T) {
  return { required: true, content: { "application/json": { schema } } };
}

export const SuccessSchema = z.object({ success: z.literal(true) }).openapi("Success");

export const PageInfoSchema = z
  .object({
    total: z.number().int(),
    totalCapped: z
      .boolean()
      .optional()
      .openapi({ description: "Lists that count only up to a cap (calls: 10,000): true when total is that cap" }),
    hasNextPage: z.boolean(),
    hasPreviousPage: z.boolean(),
    startCursor: z.string().nullable(),
    endCursor: z.string().nullable(),
  })
  .openapi("PageInfo");

export const ListQuerySchema = z.object({
  limit: z.string().optional().openapi({ description: "Page size (1-100, default 100)" }),
  after: z.string().optional().openapi({ description: "Keyset cursor: the page after this row (next page)" }),
  before: z.string().optional().openapi({ description: "Keyset cursor: the page before this row (previous page)" }),
  filter: z.string().optional().openapi({
    description:
      'JSON filter: {"and":[...]}, {"or":[...]}, {"not":{...}} or {"field":{"eq"|"ne"|"gt"|"gte"|"lt"|"lte"|"in"|"nin"|"like"|"ilike"|"isNull": value}}',
    example: '{"name":{"ilike":"hello%"}}',
  }),
  orderBy: z.string().optional().openapi({
    description:
      "JSON array of {field: direction}; asc, desc, asc_nulls_first, asc_nulls_last, desc_nulls_first, desc_nulls_last",
    example: '[{"createdAt":"desc"}]',
  }),
});

export function idParam(prefix: string, what: string) {
  return z.object({
    id: z
      .string()
      .min(1)
      .max(64)
      .openapi({ param: { name: "id", in: "path" }, description: `The ${what}'s id (${prefix}_...)` }),
  });
}

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const TimestampSchema = z.string().openapi({ format: "date-time", example: "2026-11-25T10:00:00.000Z" });

/** One file of an upload: a string is UTF-8 text, `{ base64 }` the bytes of a binary file. */
export const UploadFileSchema = z
  .union([
    z.string(),
    z
      .object({
        base64: z.string().openapi({ format: "byte", description: "The file's bytes, standard padded base64" }),
      })
      .strict(),
  ])
  .openapi("UploadFile", {
    description:
      'A file: its text (UTF-8), or {"base64": "..."} for a binary file (a .wasm, an image, a model). Binary files count against the code limit by their decoded size.',
  });
