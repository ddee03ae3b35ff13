import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** The fuzzer's seed and cases per route (vitest.reliability.config.ts). */
      EDGEFN_FUZZ_SEED?: string;
      EDGEFN_FUZZ_RUNS?: string;
      EDGEFN_FUZZ_VERBOSE?: string;
    }
  }
}
