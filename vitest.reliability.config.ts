import { defineConfig } from "vitest/config";
import { workersProject } from "./vitest.config.ts";

/**
 * `npm run test:reliability`: generated bad input against every route, runaway code, crashes, concurrent
 * lifecycle operations and workspace walls. EDGEFN_FUZZ_SEED and EDGEFN_FUZZ_RUNS set the fuzzer's seed and
 * cases per route (CI runs a shorter seeded form).
 */
export default defineConfig(async () => {
  const workers = await workersProject("reliability", ["test/reliability/*.test.ts"], {
    EDGEFN_FUZZ_SEED: process.env.EDGEFN_FUZZ_SEED ?? "20261201",
    EDGEFN_FUZZ_RUNS: process.env.EDGEFN_FUZZ_RUNS ?? "200",
    EDGEFN_FUZZ_VERBOSE: process.env.EDGEFN_FUZZ_VERBOSE ?? "",
  });
  return {
    test: {
      projects: [
        {
          ...workers,
          test: { ...workers.test, testTimeout: 600_000, hookTimeout: 600_000 },
        },
        {
          // Black-box: the real local server, killed and restarted, fed runaway code.
          test: {
            name: "reliability-e2e",
            include: ["test/reliability/e2e/**/*.test.ts"],
            environment: "node",
            testTimeout: 600_000,
            hookTimeout: 300_000,
            fileParallelism: false,
          },
        },
      ],
    },
  };
});
