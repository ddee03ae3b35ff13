/** The request bodies of the Cognite surface, as zod schemas (`null` counts as absent where clients send it). */
import { z } from "zod";
import { envVarsProblem, LIMITS, metadataProblem, secretsProblem } from "../../../lib/limits";
import { UploadFileSchema } from "../../openapi";
import { RUNTIMES } from "./mapping";

const id = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const identifier = z.union([z.object({ id }).strict(), z.object({ externalId: z.string().min(1).max(255) }).strict()]);
const idItem = z.object({ id }).strict();
const range = z.object({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() }).strict();
const limit = z.number().int().min(-1).max(10_000).nullish();
const cursor = z.string().max(2000).nullish();
const stringMap = (check: (m: Record<string, string>) => string | null) =>
  z.record(z.string(), z.string()).superRefine((m, ctx) => {
    const problem = check(m);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const FunctionItem = z
  .object({
    name: z
      .string()
      .min(LIMITS.functionName.min)
      .max(LIMITS.functionName.max)
      .refine((s) => s.trim().length > 0 && !/[\u0000-\u001f\u007f]/.test(s), "must be visible text"),
    externalId: z.string().min(1).max(LIMITS.externalId.max).optional(),
    description: z.string().max(LIMITS.description.max).optional(),
    owner: z.string().max(128).optional(),
    fileId: id.optional(),
    functionPath: z.string().max(500).optional(),
    secrets: stringMap(secretsProblem).optional(),
    envVars: stringMap(envVarsProblem).optional(),
    metadata: stringMap(metadataProblem).optional(),
    cpu: z.number().positive().optional(),
    memory: z.number().positive().optional(),
    runtime: z
      .string()
      .max(32)
      .refine((r) => RUNTIMES.includes(r), `use one of ${RUNTIMES.join(", ")}`)
      .optional(),
    indexUrl: z.string().optional(),
    extraIndexUrls: z.array(z.string()).optional(),
    code: z.string().optional(),
    files: z.record(z.string(), UploadFileSchema).optional(),
  })
  .strict();

const bytes = (s: string) => new TextEncoder().encode(s).byteLength;
/** Cognite's limits of a file's metadata: 256 pairs, keys of 128 bytes, values of 10240, 10240 bytes in all. */
function fileMetadataProblem(m: Record<string, string>): string | null {
  const entries = Object.entries(m);
  if (entries.length > 256) return "at most 256 key-value pairs";
  let total = 0;
  for (const [k, v] of entries) {
    if (bytes(k) > 128) return `key '${k.slice(0, 40)}' is longer than 128 bytes`;
    if (bytes(v) > 10240) return `value of '${k.slice(0, 40)}' is longer than 10240 bytes`;
    total += bytes(k) + bytes(v);
  }
  return total > 10240 ? "keys and values together exceed 10240 bytes" : null;
}
const time = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const fileIdentifiers = z.array(identifier).min(1).max(1000);

/** A file's metadata as the SDK's upload sends it (null: absent). Asset, label and security fields are not kept. */
const FileItem = z
  .object({
    name: z.string().min(1).max(256),
    externalId: z.string().min(1).max(255).nullish(),
    directory: z
      .string()
      .max(512)
      .refine((d) => d.startsWith("/"), "must be an absolute, unix-style path")
      .nullish(),
    source: z.string().max(128).nullish(),
    mimeType: z.string().max(256).nullish(),
    metadata: stringMap(fileMetadataProblem).nullish(),
    dataSetId: id.nullish(),
    sourceCreatedTime: time.nullish(),
    sourceModifiedTime: time.nullish(),
    assetIds: z.array(id).max(1000).nullish(),
    securityCategories: z.array(id).max(100).nullish(),
    labels: z
      .array(z.object({ externalId: z.string().min(1).max(255) }).strict())
      .max(10)
      .nullish(),
    geoLocation: z.record(z.string(), z.unknown()).nullish(),
  })
  .strict();

export const Bodies = {
  createFunctions: z.object({ items: z.array(FunctionItem).min(1).max(10) }).strict(),
  listFunctions: z
    .object({
      filter: z
        .object({
          name: z.string().optional(),
          owner: z.string().optional(),
          fileId: id.optional(),
          status: z.enum(["Queued", "Deploying", "Ready", "Failed"]).optional(),
          externalIdPrefix: z.string().optional(),
          createdTime: range.optional(),
          metadata: z.record(z.string(), z.string()).optional(),
        })
        .strict()
        .optional(),
      limit,
      cursor,
    })
    .strict(),
  byIds: z.object({ items: z.array(identifier).min(1).max(100), ignoreUnknownIds: z.boolean().optional() }).strict(),
  deleteFunctions: z.object({ items: z.array(identifier).min(1).max(100) }).strict(),
  call: z.object({ data: z.unknown().optional(), nonce: z.string().optional() }).strict(),
  listCalls: z
    .object({
      filter: z
        .object({
          status: z.enum(["Running", "Completed", "Failed", "Timeout"]).optional(),
          scheduleId: id.optional(),
          startTime: range.optional(),
          endTime: range.optional(),
        })
        .strict()
        .optional(),
      limit,
      cursor,
    })
    .strict(),
  callsByIds: z.object({ items: z.array(idItem).min(1).max(100) }).strict(),
  createSchedules: z
    .object({
      items: z
        .array(
          z
            .object({
              name: z.string().min(1).max(140),
              cronExpression: z.string().min(1).max(1024),
              functionId: id.optional(),
              functionExternalId: z.string().min(1).max(255).optional(),
              description: z.string().max(500).optional(),
              data: z.unknown().optional(),
              nonce: z.string().optional(),
            })
            .strict()
            .refine(
              (s) => (s.functionId === undefined) !== (s.functionExternalId === undefined),
              "give exactly one of functionId and functionExternalId",
            ),
        )
        .min(1)
        .max(10),
    })
    .strict(),
  listSchedules: z
    .object({
      filter: z
        .object({
          name: z.string().optional(),
          functionId: id.optional(),
          functionExternalId: z.string().optional(),
          createdTime: range.optional(),
          cronExpression: z.string().optional(),
        })
        .strict()
        .optional(),
      limit,
      cursor,
    })
    .strict(),
  schedulesByIds: z
    .object({ items: z.array(idItem).min(1).max(100), ignoreUnknownIds: z.boolean().optional() })
    .strict(),
  deleteSchedules: z.object({ items: z.array(idItem).min(1).max(100) }).strict(),
  createFile: FileItem,
  filesByIds: z.object({ items: fileIdentifiers, ignoreUnknownIds: z.boolean().nullish() }).strict(),
  deleteFiles: z.object({ items: fileIdentifiers, ignoreUnknownIds: z.boolean().nullish() }).strict(),
  listFiles: z
    .object({
      filter: z
        .object({
          name: z.string().max(256).optional(),
          externalIdPrefix: z.string().max(255).optional(),
          directoryPrefix: z.string().max(512).optional(),
          mimeType: z.string().max(256).optional(),
          source: z.string().max(128).optional(),
          uploaded: z.boolean().optional(),
          dataSetIds: z.array(idItem).max(100).optional(),
          metadata: z.record(z.string(), z.string()).optional(),
          createdTime: range.optional(),
          lastUpdatedTime: range.optional(),
          uploadedTime: range.optional(),
        })
        .strict()
        .nullish(),
      limit,
      cursor,
    })
    .strict(),
  sessions: z
    .object({
      items: z
        .array(
          z.union([
            z.object({ tokenExchange: z.literal(true) }).strict(),
            z.object({ oneshotTokenExchange: z.literal(true) }).strict(),
            z.object({ clientId: z.string().min(1).max(255), clientSecret: z.string().min(1).max(1000) }).strict(),
          ]),
        )
        .min(1)
        .max(10),
    })
    .strict(),
};
