/**
 * The host Worker's env. Its bindings come from wrangler.toml through `wrangler types`, which writes
 * worker-configuration.d.ts (`npm run types`; CI fails when it is out of date). What wrangler.toml does not list,
 * the secrets and the optional vars, is declared here.
 */
declare global {
  namespace Cloudflare {
    interface Env {
      /** The admin API key (a Worker secret; `.dev.vars` locally). */
      EDGEFN_ADMIN_KEY?: string;
      /** "local" under `npm start` and the benchmarks, "test" in the tests; unset (production) otherwise. */
      EDGEFN_ENV?: string;
      /** Set (with EDGEFN_ENV=local) only by `npm run bench`: enables its worker's /__bench routes for requests carrying it. */
      EDGEFN_BENCH?: string;
      /** Encrypts function secrets at rest (a Worker secret; `.dev.vars` locally). */
      EDGEFN_SECRETS_KEY?: string;
      /** Older secrets keys, comma-separated: still decrypt what they encrypted, until a re-encryption moves it. */
      EDGEFN_SECRETS_KEY_PREVIOUS?: string;
      /** Overrides the loop guard's longest synchronous stretch, in ms. */
      EDGEFN_STRETCH_MS?: string;
      /**
       * The domain functions answer on at origins of their own: `{function}.{workspace}.<domain>`. Default `localhost`
       * (browsers resolve `*.localhost` to this machine); on Cloudflare a wildcard route of a domain of its own.
       */
      EDGEFN_RUN_DOMAIN?: string;
      /** Set by the local supervisor (npm start): where the call journal goes, and the token both sides hold. */
      EDGEFN_SUPERVISOR_URL?: string;
      EDGEFN_SUPERVISOR_TOKEN?: string;
      /** Calls of one workspace that may run at once in one host isolate (default in LIMITS). */
      EDGEFN_WORKSPACE_CONCURRENCY?: string;
      /** Seconds before an async call's first retry (doubling after). */
      EDGEFN_RETRY_BACKOFF_S?: string;
    }
  }
}

export type Env = Cloudflare.Env;

export interface Principal {
  keyId: string;
  role: "viewer" | "invoker" | "developer" | "admin";
  /** null: the key sees every workspace. */
  workspaceId: string | null;
  /** Set: the key sees only these functions (of its workspace). */
  functionIds?: string[] | null;
}

export interface AppVariables {
  requestId: string;
  principal: Principal;
}

export type AppEnv = { Bindings: Env; Variables: AppVariables };
