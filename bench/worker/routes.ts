import type { Context, MiddlewareHandler } from "hono";
import { forgetFunction } from "../../src/domain/calls/cache";
import { prepareCall } from "../../src/domain/calls/invoke";
import { invokeAnswer } from "../../src/domain/calls/outcome";
import { executeCall } from "../../src/domain/calls/pipeline";
import type { AppEnv, Env } from "../../src/env";
import type { App } from "../../src/http/app";
import { requireAuth } from "../../src/http/auth";
import { serviceContext } from "../../src/http/context";
import { digestsEqual } from "../../src/lib/crypto";
import { ApiError } from "../../src/lib/errors";
import { newId } from "../../src/lib/ids";
import type { BuiltBundle } from "../../src/runtime/bundle";
import { ISOLATE_COMPAT } from "../../src/runtime/compat";
import { type IsolateEntrypoint, readBundle } from "../../src/runtime/loader";
import { snapshotsPrefixOf } from "../../src/storage/objects";
import { bareIsolate } from "../direct";

/**
 * Baselines for `npm run bench`, which exist only on a local platform started with a bench token
 * (EDGEFN_ENV=local and EDGEFN_BENCH=<token>) and answer only requests carrying that token; anywhere else they
 * are an ordinary 404. They are not part of the API and not in its document.
 *
 * - `POST /__bench/direct/{versionId}`: the version's built bundle in a warm isolate of its own, called straight
 *   through the Worker Loader: no API key, no function lookup, no recording. The floor an invoke is compared with.
 * - `ANY /__bench/direct/{versionId}/fetch/*`: the same, for the bundle's fetch handler (the floor of /run).
 * - `POST /__bench/snapshots/{functionId}/drop`: deletes the function's Python memory snapshots (a cold start without).
 * - `POST /__bench/unrecorded/{functionId}`: a full invoke (API key, cached function and version, isolate) without
 *   the call record, to measure what recording costs.
 * - `POST /__bench/new-isolate/{functionId}`: a new config revision of the function, without the warm-up a config
 *   change through the API starts: its next call makes a new isolate (a cold start of a new isolate).
 * - `POST /__bench/empty-isolate/{name}`: calls a method of an isolate of one empty module, made on the first
 *   request for the name: the Worker Loader's own cost of a new isolate, the floor of a cold start.
 */
export function benchEnabled(env: Env): boolean {
  return env.EDGEFN_ENV === "local" && typeof env.EDGEFN_BENCH === "string" && env.EDGEFN_BENCH.length >= 16;
}

const onlyWhenBenchmarking: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = c.req.header("x-edgefn-bench") ?? "";
  if (!benchEnabled(c.env) || !digestsEqual(token, c.env.EDGEFN_BENCH as string)) {
    throw new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`);
  }
  await next();
};

/** Bundles by version id, for the life of this host isolate (stubs cannot outlive their request). */
const bundles = new Map<string, BuiltBundle>();

async function directIsolate(env: Env, versionId: string): Promise<IsolateEntrypoint> {
  let bundle = bundles.get(versionId);
  if (!bundle) {
    const row = await env.DB.prepare("SELECT bundle_key FROM versions WHERE id = ? AND status = 'ready'")
      .bind(versionId)
      .first<{ bundle_key: string }>();
    if (!row) throw new ApiError("not_found", `No ready version ${versionId}`);
    bundle = await readBundle(env, row.bundle_key);
    bundles.set(versionId, bundle);
  }
  return bareIsolate(env, `bench:${versionId}`, bundle);
}

async function jsonBody(c: Context<AppEnv>): Promise<{ args?: unknown }> {
  const text = await c.req.text();
  return text ? (JSON.parse(text) as { args?: unknown }) : {};
}

export function registerBenchRoutes(app: App) {
  app.use("/__bench/*", onlyWhenBenchmarking);
  app.use("/__bench/unrecorded/*", requireAuth);

  app.post("/__bench/direct/:versionId", async (c) => {
    const isolate = await directIsolate(c.env, c.req.param("versionId"));
    const { args } = await jsonBody(c);
    const out = await isolate.invoke(args ?? null, { call: { functionId: "bench", callId: newId("call") } });
    return c.json({ ok: out.ok, result: out.result === undefined ? undefined : JSON.parse(out.result) });
  });

  app.all("/__bench/direct/:versionId/fetch/*", async (c) => {
    const isolate = await directIsolate(c.env, c.req.param("versionId"));
    const url = new URL(c.req.url);
    url.pathname = url.pathname.replace(/^\/__bench\/direct\/[^/]+\/fetch/, "") || "/";
    return isolate.fetch(new Request(url, c.req.raw));
  });

  // A function's Python memory snapshots dropped, so that its next new isolate boots Python plainly.
  app.post("/__bench/snapshots/:functionId/drop", async (c) => {
    const listed = await c.env.CODE.list({ prefix: snapshotsPrefixOf(c.req.param("functionId")) });
    const keys = listed.objects.map((o) => o.key);
    if (keys.length > 0) await c.env.CODE.delete(keys);
    return c.json({ dropped: keys.length });
  });

  // A new config revision without the platform's warm-up: the function's next call needs an isolate nobody made.
  app.post("/__bench/new-isolate/:functionId", async (c) => {
    const id = c.req.param("functionId");
    await c.env.DB.prepare("UPDATE functions SET config_revision = config_revision + 1 WHERE id = ?").bind(id).run();
    forgetFunction(id);
    return c.json({ ok: true });
  });

  app.post("/__bench/empty-isolate/:name", async (c) => {
    const worker = c.env.LOADER.get(`bench-empty:${c.req.param("name")}`, () => ({
      ...ISOLATE_COMPAT,
      mainModule: "empty.js",
      modules: {
        "empty.js":
          'import { WorkerEntrypoint } from "cloudflare:workers";\nexport default class extends WorkerEntrypoint { ping() { return true; } }\n',
      },
      env: {},
      globalOutbound: null,
    }));
    const entry = worker.getEntrypoint() as unknown as { ping(): Promise<boolean> };
    return c.json({ ok: await entry.ping() });
  });

  app.post("/__bench/unrecorded/:functionId", async (c) => {
    const ctx = serviceContext(c);
    const { args } = await jsonBody(c);
    const prepared = await prepareCall(ctx, c.req.param("functionId"), { args });
    return c.json(invokeAnswer(await executeCall(ctx, prepared, newId("call"))));
  });
}
