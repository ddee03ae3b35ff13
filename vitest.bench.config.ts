import { defineConfig } from "vitest/config";
import { workersProject } from "./vitest.config.ts";

/** `npm run bench`: the benchmarks in bench/, in the same workerd runtime as the tests, one file at a time. */
export default defineConfig(async () => {
  const project = await workersProject("bench", ["bench/**/*.bench.ts"]);
  return {
    ...project,
    test: { ...project.test, testTimeout: 600_000, hookTimeout: 600_000, fileParallelism: false },
  };
});
