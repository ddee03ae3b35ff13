/** The request bodies of the Gcore surface, as zod schemas. */
import { z } from "zod";
import { LIMITS } from "../../../lib/limits";

const dnsName = z
  .string()
  .min(1)
  .max(LIMITS.workspaceName.max)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "lowercase letters, digits and inner hyphens only");

export const NamespaceCreate = z.object({
  name: dnsName,
  description: z.string().max(255).optional(),
  envs: z
    .record(z.string(), z.string())
    .optional()
    .refine((e) => !e || Object.keys(e).length === 0, "namespace envs are not supported; set envs on each function"),
});

const envs = z
  .record(z.string().regex(LIMITS.envVars.key, "letters, digits and underscores").max(255), z.string().max(255))
  .nullable();
const autoscaling = z
  .object({
    min_instances: z.number().int().min(0).max(50).optional(),
    max_instances: z.number().int().min(0).max(50).optional(),
  })
  .strict();
const runtime = z
  .string()
  .min(1)
  .max(64)
  .refine(
    (r) => /^(node|python3)/i.test(r),
    "only Node.js (node...) and Python (python3...) runtimes are supported: code_text is JavaScript or Python",
  );

const mutable = {
  description: z.string().max(255).optional(),
  code_text: z.string().min(1).max(100_000),
  main_method: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, "an identifier (JavaScript, or Python without $)"),
  runtime,
  envs: envs.optional(),
  timeout: z.number().int().min(0).max(180).optional(),
  flavor: z.string().max(64).optional(),
  autoscaling: autoscaling.optional(),
  enable_api_key: z.boolean().nullable().optional(),
  keys: z.array(z.string().min(1).max(40)).max(10).optional(),
  // Stopping a function is not supported: `disabled: true` would be a promise the platform does not keep.
  disabled: z
    .boolean()
    .optional()
    .refine((d) => d !== true, "disabling a function is not supported; delete it or set enable_api_key"),
  dependencies: z.string().max(100_000).optional(),
};

export const FunctionCreate = z.object({ name: dnsName, ...mutable });
export const FunctionPatch = z
  .object({
    name: dnsName.optional(),
    ...mutable,
    code_text: mutable.code_text.optional(),
    main_method: mutable.main_method.optional(),
    runtime: runtime.optional(),
  })
  .refine((p) => Object.keys(p).length > 0, "send at least one field to change");
