import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export const TEST_ADMIN_KEY = "efn_test-admin-key-for-the-test-runtime-only";

export default defineConfig(async () => {
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
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/support/setup.ts"],
      testTimeout: 30_000,
    },
  };
});
