import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export const TEST_ADMIN_KEY = "efn_test-admin-key-for-the-test-runtime-only";

/**
 * V8 falls back to its linear-time engine for a regular expression that backtracks too much, as `npm start` sets it
 * up: a catastrophic pattern (in a function, or in a JSON Schema) then ends instead of freezing the runtime.
 */
export const REGEXP_V8_FLAGS =
  "--enable-experimental-regexp-engine-on-excessive-backtracks --regexp-backtracks-before-fallback=10000";
process.env.MINIFLARE_WORKERD_V8_FLAGS ??= REGEXP_V8_FLAGS;

/** The Workers runtime the in-process tests (and the benchmarks) run in: real D1, R2, DOs, Queues, Loader. */
export async function workersProject(name: string, include: string[], extraBindings: Record<string, string> = {}) {
  const migrations = await readD1Migrations("migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            EDGEFN_ADMIN_KEY: TEST_ADMIN_KEY,
            EDGEFN_SECRETS_KEY: "test-secrets-key-for-the-test-runtime-only",
            EDGEFN_ENV: "test",
            // Retries of async calls run at once in tests (the backoff doubles from this many seconds).
            EDGEFN_RETRY_BACKOFF_S: "0",
            ...extraBindings,
          },
        },
      }),
    ],
    test: {
      name,
      include,
      setupFiles: ["./test/support/setup.ts"],
      testTimeout: 30_000,
    },
  };
}

export default defineConfig(async () => ({
  test: {
    projects: [
      await workersProject("workers", ["test/**/*.test.ts"]).then((p) => ({
        ...p,
        test: {
          ...p.test,
          exclude: ["test/e2e/**", "test/reliability/**"],
          // Archives made by the real tar and zip (test/packaging.archives.test.ts); the examples' binary files.
          globalSetup: ["./test/support/archives.setup.mjs", "./test/support/examples.setup.mjs"],
        },
      })),
      {
        // Black-box: the real local server, started the way `npm start` starts it.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // What a browser shows after a request (a sign-in checks a password hash) can take seconds on a busy machine.
          expect: { poll: { timeout: 10_000 } },
        },
      },
    ],
  },
}));
