/**
 * The key an Appwrite execution gets in its `x-appwrite-key` request header, so that an SDK inside the function
 * (node-appwrite's `setKey(req.headers["x-appwrite-key"])`) can call `/v1` of its own project: a token signed by
 * the platform (see lib/tokens.ts) naming the function's workspace and the function's `scopes`, which expires when
 * the execution's time is up (its start plus its timeout). Nothing stores it, and checking it reads nothing.
 */
import type { Env, Principal } from "../../../env";
import { signToken, verifyToken } from "../../../lib/tokens";
import { appwriteFailure } from "./failures";

/** How Appwrite 1.7 spells such a key: `dynamic_<JWT>`. */
export const EXECUTION_KEY_PREFIX = "dynamic_";
const KIND = "appwrite-execution";

export interface ExecutionKeyClaims {
  workspaceId: string;
  functionId: string;
  callId: string;
  scopes: string[];
}

/** A key for this execution, valid until `expiresAt` (epoch ms). */
export async function mintExecutionKey(
  env: Pick<Env, "EDGEFN_SECRETS_KEY">,
  claims: ExecutionKeyClaims,
  expiresAt: number,
): Promise<string> {
  const token = await signToken(
    env,
    { kind: KIND, ws: claims.workspaceId, fn: claims.functionId, call: claims.callId, scopes: claims.scopes },
    expiresAt,
  );
  return `${EXECUTION_KEY_PREFIX}${token}`;
}

export const isExecutionKey = (key: string): boolean => key.startsWith(EXECUTION_KEY_PREFIX);

/**
 * The principal an execution's key stands for: its workspace only, the Appwrite scopes it was given (the routes
 * check them), as a developer there (no more than the scopes allow). An expired key is `project_key_expired`,
 * anything else that is not such a key of this platform `general_unauthorized_scope`.
 */
export async function principalOfExecutionKey(env: Pick<Env, "EDGEFN_SECRETS_KEY">, key: string): Promise<Principal> {
  const verified = await verifyToken(env, key.slice(EXECUTION_KEY_PREFIX.length));
  if (!verified.ok) {
    throw verified.expired
      ? appwriteFailure(
          "unauthorized",
          "project_key_expired",
          "The project key has expired. Please generate a new key using the Appwrite console.",
        )
      : appwriteFailure("unauthorized", "general_unauthorized_scope", "Invalid API key");
  }
  const c = verified.claims;
  const scopes = Array.isArray(c.scopes) ? c.scopes.filter((s): s is string => typeof s === "string") : [];
  if (c.kind !== KIND || typeof c.ws !== "string" || typeof c.call !== "string") {
    throw appwriteFailure("unauthorized", "general_unauthorized_scope", "Invalid API key");
  }
  return { keyId: c.call, role: "developer", workspaceId: c.ws, functionIds: null, scopes };
}
