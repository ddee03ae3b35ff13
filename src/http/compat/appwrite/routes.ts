import type { HonoRequest } from "hono";
import { ANONYMOUS } from "../../../domain/compat/appwrite/access";
import { isExecutionKey, principalOfExecutionKey } from "../../../domain/compat/appwrite/execution-keys";
import type { Env } from "../../../env";
import { ApiError } from "../../../lib/errors";
import type { App } from "../../router";
import { compatRouter } from "../kit";
import { appwriteSessionPrincipal, registerAccountRoutes } from "./account";
import type { AwEnv } from "./context";
import { registerDeploymentRoutes } from "./deployments";
import { appwriteError } from "./errors";
import { registerExecutionRoutes } from "./executions";
import { registerFunctionRoutes } from "./functions";
import { registerPlatformRoutes } from "./platform";
import { registerTemplateRoutes } from "./templates";
import { registerVariableRoutes } from "./variables";

/** Routes Appwrite serves without any credential: creating an execution (the function's roles decide), templates, the version. */
const ANONYMOUS_ROUTES: [string, RegExp][] = [
  ["POST", /^\/v1\/functions\/[^/]+\/executions\/?$/],
  ["GET", /^\/v1\/functions\/templates(\/[^/]+)?\/?$/],
  ["GET", /^\/v1\/health\/version\/?$/],
  // Signing in and out, and the account: the session cookie decides, not a key.
  ["POST", /^\/v1\/account\/sessions(\/email)?\/?$/],
  ["GET", /^\/v1\/account\/?$/],
  ["DELETE", /^\/v1\/account\/sessions\/[^/]+\/?$/],
];

/**
 * The principal a request establishes on this surface before any edgefn key is looked up: an execution's own key
 * (`x-appwrite-key: dynamic_...`), a user's session (its `a_session_*` cookie with `X-Appwrite-Project`), or none
 * at all where Appwrite lets anonymous requests through.
 */
async function surfacePrincipal(req: HonoRequest, env: Env) {
  const key = req.header("x-appwrite-key");
  if (key && isExecutionKey(key)) return principalOfExecutionKey(env, key);
  if (key !== undefined) return undefined;
  const user = await appwriteSessionPrincipal(req, env);
  if (user) return user;
  if (ANONYMOUS_ROUTES.some(([m, path]) => m === req.method && path.test(req.path))) return ANONYMOUS;
  return undefined;
}

/**
 * The Appwrite surface (see docs/compat.md): `/v1/functions...` and what Appwrite's CLI calls around it, with
 * `X-Appwrite-Project` (a workspace) and `X-Appwrite-Key` (an edgefn key, or an execution's own key) or a user's
 * session (`appwrite login`, see ./account.ts); every answer in Appwrite's models and error shape.
 */
export function registerAppwriteRoutes(app: App): void {
  const v1 = compatRouter<AwEnv["Variables"]>({
    credential: (req) => {
      const key = req.header("x-appwrite-key");
      return key ? `Bearer ${key}` : undefined;
    },
    principal: surfacePrincipal,
    missingKey: "Missing the X-Appwrite-Key header: send an edgefn API key, or sign in (`appwrite login`)",
    toBody: appwriteError,
  });
  const functions = v1.basePath("/functions");
  // Fixed paths first: a function id never shadows them.
  registerTemplateRoutes(functions);
  registerFunctionRoutes(functions);
  registerDeploymentRoutes(functions);
  registerExecutionRoutes(functions);
  registerVariableRoutes(functions);
  registerPlatformRoutes(v1);
  registerAccountRoutes(v1);

  v1.all("*", () => {
    throw new ApiError("not_found", "route not found: this server answers Appwrite's functions API");
  });

  app.route("/v1", v1 as unknown as App);
}
