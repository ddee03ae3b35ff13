/**
 * The import rule (npm run check:layers; CI runs it): the layers of src/ point one way, and nothing imports in a
 * circle.
 *
 *   entry (src/index.ts) -> http (app, native routes, compat surfaces) -> domain -> runtime / storage / lib
 *   durable (Durable Objects) -> domain / runtime / storage / lib
 *
 * src/env.ts (the bindings' types) may be imported from anywhere. Type-only imports do not count as upward imports
 * (a route may name a row's type) but do count in cycles.
 */
const layer = (name) => `^src/${name}/`;

module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "Modules that import each other, directly or through others.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "lib-is-a-leaf",
      severity: "error",
      comment: "lib/ holds small shared pieces: it imports nothing of the platform but lib/.",
      from: { path: layer("lib") },
      to: {
        path: "^src/",
        pathNot: [layer("lib"), "^src/env\\.ts$", "^src/storage/db\\.ts$"],
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "storage-below-everything-but-lib",
      severity: "error",
      from: { path: layer("storage") },
      to: {
        path: "^src/",
        pathNot: [layer("storage"), layer("lib"), "^src/env\\.ts$"],
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "runtime-below-domain",
      severity: "error",
      comment: "The isolate runtime uses storage and lib, never the domain, HTTP or the entry.",
      from: { path: layer("runtime") },
      to: {
        path: "^src/",
        pathNot: [layer("runtime"), layer("storage"), layer("lib"), "^src/env\\.ts$"],
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "domain-below-http",
      severity: "error",
      comment: "The domain never sees HTTP (routes, compat surfaces, the app) or the entry.",
      from: { path: layer("domain") },
      to: { path: ["^src/http/", "^src/index\\.ts$"] },
    },
    {
      name: "domain-does-not-call-durable-objects-by-import",
      severity: "error",
      comment: "The domain reaches a Durable Object through its binding (env.FUNCTIONS), not by importing its class.",
      from: { path: layer("domain") },
      to: { path: layer("durable"), dependencyTypesNot: ["type-only"] },
    },
    {
      name: "durable-objects-use-the-domain-never-http",
      severity: "error",
      from: { path: layer("durable") },
      to: { path: ["^src/http/", "^src/index\\.ts$"] },
    },
    {
      name: "http-never-spells-storage",
      severity: "error",
      comment:
        "Routes and surfaces call the domain. They may name the schema's types and enums and make the db client for a " +
        "service context, never spell storage (no R2 keys, no raw SQL).",
      from: { path: "^src/http/" },
      to: {
        path: layer("storage"),
        pathNot: ["^src/storage/db\\.ts$", layer("storage/schema")],
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "http-never-queries",
      severity: "error",
      from: { path: "^src/http/" },
      to: { path: "drizzle-orm" },
    },
    {
      name: "nothing-imports-the-entry",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/index\\.ts$" },
      to: { path: "^src/index\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    includeOnly: "^src/",
    exclude: { path: "\\.d\\.ts$" },
  },
};
