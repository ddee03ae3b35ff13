/** The request bodies of the Appwrite surface, as zod schemas (every problem is a 400 naming the field). */
import { z } from "zod";
import type { AppwriteFunctionInput } from "./mapping";

export const FunctionBody = z.object({
  functionId: z.string().max(36).optional(),
  name: z.string().min(1).max(128).optional(),
  runtime: z.string().optional(),
  execute: z.array(z.string().max(64)).max(100).optional(),
  events: z.array(z.string()).max(100).optional(),
  schedule: z.string().max(256).optional(),
  timeout: z.number().int().optional(),
  enabled: z.boolean().optional(),
  logging: z.boolean().optional(),
  entrypoint: z.string().max(256).optional(),
  commands: z.string().max(512).optional(),
  scopes: z.array(z.string()).max(100).optional(),
  specification: z.string().optional(),
  buildSpecification: z.string().optional(),
  runtimeSpecification: z.string().optional(),
});

export const FunctionCreateBody = FunctionBody.extend({ functionId: z.string(), name: z.string().min(1).max(128) });

export const ActivateBody = z.object({ deploymentId: z.string().min(1) });

/** Appwrite's headers: an object of strings, or that object as a JSON string; at most 100 of them. */
const Headers = z.preprocess(
  (v) => {
    if (typeof v !== "string") return v;
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  },
  z
    .record(z.string().min(1).max(256), z.union([z.string().max(8192), z.number(), z.boolean()]))
    .refine((h) => Object.keys(h).length <= 100, "at most 100 headers"),
);

export const ExecutionBody = z.object({
  body: z
    .string()
    .max(10 * 1024 * 1024)
    .optional(),
  // Booleans, also as the strings a multipart form or an old SDK sends.
  async: z
    .union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")])
    .optional(),
  path: z.string().max(2048).optional(),
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]).optional(),
  headers: Headers.optional(),
  scheduledAt: z.string().max(100).nullable().optional(),
});

export const DuplicateBody = z.object({ deploymentId: z.string().min(1).max(64), buildId: z.string().optional() });

export const TemplateDeploymentBody = z.object({
  repository: z.string().max(128),
  owner: z.string().max(128),
  rootDirectory: z.string().max(128),
  // Appwrite 1.7 names a tag; later SDKs a reference of a type. Templates here have one version.
  version: z.string().max(128).optional(),
  type: z.enum(["commit", "branch", "tag"]).optional(),
  reference: z.string().max(255).optional(),
  activate: z.boolean().optional(),
});

export const VariableBody = z.object({
  // Accepted, but a variable's $id is always its key: edgefn keeps env vars and secrets by name.
  variableId: z.string().max(36).optional(),
  key: z.string().min(1).max(255).optional(),
  value: z.string().max(8192).optional(),
  secret: z.boolean().optional(),
});

export const VariableCreateBody = VariableBody.extend({
  key: z.string().min(1).max(255),
  value: z.string().max(8192),
});

/** A custom function id (an Appwrite id: what the SDKs' ID.unique() makes). */
export const APPWRITE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$/;

/** The Appwrite function fields of a create or update body. */
export function toFunctionInput(body: z.infer<typeof FunctionBody>): AppwriteFunctionInput {
  const { functionId: _id, buildSpecification, runtimeSpecification, specification, ...rest } = body;
  const spec = specification ?? buildSpecification ?? runtimeSpecification;
  return spec === undefined ? rest : { ...rest, specification: spec };
}

export const RuleBody = z.object({
  domain: z.string().max(255).optional(),
  functionId: z.string().min(1).max(64),
  branch: z.string().max(255).optional(),
});
