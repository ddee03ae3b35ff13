import { createRoute, z } from "@hono/zod-openapi";
import { LIMITS } from "../../lib/limits";
import { ISOLATE_COMPAT } from "../../runtime/compat";
import { stretchMs } from "../../runtime/loader";
import { PYODIDE_BUILD } from "../../runtime/python/bundle";
import { errors, json } from "../openapi";
import type { App } from "../router";

const range = (r: { default: number; min: number; max: number }) => ({ default: r.default, min: r.min, max: r.max });

export function registerPlatformRoutes(app: App) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/limits",
      tags: ["platform"],
      summary: "The platform's limits",
      responses: { 200: json(z.record(z.string(), z.unknown()).openapi("Limits"), "Limits and defaults"), ...errors() },
    }),
    (c) =>
      c.json(
        {
          timeoutMs: range(LIMITS.timeoutMs),
          cpuMs: range(LIMITS.cpuMs),
          stretchMs: stretchMs(c.env),
          argsBytes: LIMITS.argsBytes,
          resultBytes: LIMITS.resultBytes,
          codeBytes: LIMITS.codeBytes,
          codeFiles: LIMITS.codeFiles,
          logBytesPerCall: LIMITS.logBytes,
          envVars: {
            count: LIMITS.envVars.count,
            key: LIMITS.envVars.key.source,
            valueBytes: LIMITS.envVars.valueBytes,
            totalBytes: LIMITS.envVars.totalBytes,
          },
          secrets: {
            count: LIMITS.secrets.count,
            key: LIMITS.secrets.key.source,
            totalBytes: LIMITS.secrets.totalBytes,
          },
          metadata: LIMITS.metadata,
          functionName: LIMITS.functionName,
          description: LIMITS.description,
          allowedHosts: LIMITS.allowedHosts,
        },
        200,
      ),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/runtimes",
      tags: ["platform"],
      summary: "The runtimes functions can use",
      responses: {
        200: json(z.object({ data: z.array(z.record(z.string(), z.unknown())) }).openapi("Runtimes"), "Runtimes"),
        ...errors(),
      },
    }),
    (c) =>
      c.json(
        {
          data: [
            {
              id: "workers-js",
              runtime: "javascript",
              name: "JavaScript / TypeScript on the Workers runtime",
              languages: ["javascript", "typescript"],
              moduleFormat: "esm",
              ...ISOLATE_COMPAT,
              handlers: ["export async function handle(data, ctx)", "export default { fetch(request, env, ctx) }"],
            },
            {
              id: `python-${PYODIDE_BUILD.python.split(".").slice(0, 2).join(".")}`,
              runtime: "python",
              name: `Python ${PYODIDE_BUILD.python} (Pyodide ${PYODIDE_BUILD.pyodide}) on the Workers runtime`,
              languages: ["python"],
              version: PYODIDE_BUILD.python,
              pyodide: PYODIDE_BUILD.pyodide,
              entryFiles: ["handler.py", "src/main.py", "main.py", "index.py"],
              dependencies: "pure-Python wheels carried in the upload (wheels/*.whl), checked against requirements.txt",
              snapshots: true,
              handlers: [
                "def handle(data, ctx)",
                "def handle(data, client, secrets, function_call_info)",
                "def main(context)",
                "async def on_fetch(request)",
              ],
            },
          ],
        },
        200,
      ),
  );
}
