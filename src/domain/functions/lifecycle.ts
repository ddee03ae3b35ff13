import type { FunctionRow } from "../../storage/schema";

/**
 * What the domain asks of a function's FunctionObject (the Durable Object that alone writes its lifecycle) and
 * what it answers, as the types both sides share. The domain reaches the object through its binding
 * (env.FUNCTIONS), never by importing its class.
 */

export type FunctionPatch = Partial<
  Pick<
    FunctionRow,
    | "name"
    | "description"
    | "externalId"
    | "metadata"
    | "runtimeUserId"
    | "inputSchemaId"
    | "outputSchemaId"
    | "retentionTier"
    | "envVars"
    | "secrets"
    | "timeoutMs"
    | "cpuMs"
    | "allowedHosts"
    | "maxRetries"
    | "public"
    | "rateLimitPerMinute"
    | "corsOrigins"
  >
>;

/** Errors cross the RPC boundary as values: thrown errors would lose their class. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: "not_found" | "conflict"; message: string };
