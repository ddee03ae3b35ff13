import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

/** `npm run bench`: the benchmarks in bench/, in the same workerd runtime as the tests, one file at a time. */
export default defineConfig(async (env) => {
  const config = await base(env);
  return {
    ...config,
    test: {
      ...config.test,
      include: ["bench/**/*.bench.ts"],
      testTimeout: 600_000,
      hookTimeout: 600_000,
      fileParallelism: false,
    },
  };
});
