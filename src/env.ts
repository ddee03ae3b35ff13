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

/**
 * Who a request acts as: an API key, or a user signed in with a session. Read it through the access helpers of
 * src/domain/context.ts (`roleIn`, `visibleWorkspaceIds`, ...), which tell keys and users apart in one place.
 */
export interface Principal {
  /** Who acts, as recorded in `createdBy`: the key's id (`key_...`), or the user's (`usr_...`) for a user's session. */
  keyId: string;
  /**
   * A key's role. A user's is "admin" for a platform admin, else their highest membership role (what they may do
   * somewhere): their role in a workspace is that membership's.
   */
  role: "viewer" | "invoker" | "developer" | "admin";
  /**
   * A key's workspace; null: the key sees every workspace. A user's: null for a platform admin, else the user's own
   * id, which names no workspace, so that code reading it instead of `memberships` sees nothing (fails closed).
   */
  workspaceId: string | null;
  /** Set: the key sees only these functions (of its workspace). */
  functionIds?: string[] | null;
  /** Set for a user's session: the user (`usr_...`). */
  userId?: string;
  /** A user's workspaces and their role in each. */
  memberships?: Readonly<Record<string, Principal["role"]>>;
  /** A user who acts as an admin of every workspace. */
  platformAdmin?: boolean;
  /** The session the request came with (`ses_...`), when it came with one. */
  sessionId?: string;
  /**
   * Set for the short-lived key an Appwrite execution gets (`x-appwrite-key`): the Appwrite scopes it grants. Only
   * the Appwrite surface accepts such a key, and only for routes of those scopes.
   */
  scopes?: string[];
  /** A request without any credential, where a surface lets one through (Appwrite's public executions). */
  anonymous?: true;
  /** A signed-in user (a session of an account): what Appwrite's `execute` roles are checked against. */
  user?: { id: string; teams?: string[]; labels?: string[]; verified?: boolean };
}

export interface AppVariables {
  requestId: string;
  principal: Principal;
}

export type AppEnv = { Bindings: Env; Variables: AppVariables };
