import { describe, expect, it } from "vitest";
import { api, expectError, expectStatus, newFunction, tenant, unique } from "./support/api";
import { deploy } from "./support/deploy";

describe("the app", () => {
  it("serves an OpenAPI 3.1 document describing every route with its errors", async () => {
    const doc = expectStatus(await api("GET", "/api/openapi.json", { key: null }), 200);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.schemas).toHaveProperty("Error");
    expect(doc.components.schemas).toHaveProperty("Function");
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.summary, `${method} ${path}`).toBeTruthy();
        const statuses = Object.keys(op.responses);
        expect(
          statuses.some((s) => s.startsWith("2")),
          `${method} ${path}`,
        ).toBe(true);
        // Everything needs a credential but health, and signing out (which works with none).
        const open = path === "/healthz" || (path === "/api/session" && method === "delete");
        if (!open) expect(statuses, `${method} ${path}`).toContain("401");
      }
    }
    const list = doc.paths["/api/functions"].get;
    expect(list.parameters.map((p: any) => p.name)).toEqual(
      expect.arrayContaining([
        "limit",
        "after",
        "before",
        "ids",
        "filter",
        "orderBy",
        "workspace_id",
        "source",
        "include_deleted",
        "name",
      ]),
    );
  });

  it("serves an interactive API reference at /docs", async () => {
    const res = await api("GET", "/docs", { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(res.body).toContain("/api/openapi.json");
  });

  it("answers unknown routes and methods with the one error shape", async () => {
    expectError(await api("GET", "/api/nothing-here"), 404, "not_found");
    expectError(await api("PUT", "/api/functions"), 404, "not_found");
  });

  it("has no benchmark routes unless the platform runs locally with a bench token", async () => {
    // The test runtime is not a local platform started by `npm run bench`: these are unknown routes here, even
    // with a token header, and they are not in the API document.
    for (const [method, path] of [
      ["POST", "/__bench/direct/ver_x"],
      ["GET", "/__bench/direct/ver_x/fetch/"],
      ["POST", "/__bench/unrecorded/fun_x"],
      ["POST", "/__bench/new-isolate/fun_x"],
    ]) {
      const res = await api(method as string, path as string, { headers: { "x-edgefn-bench": "a".repeat(32) } });
      expectError(res, 404, "not_found");
    }
    const doc = expectStatus(await api("GET", "/api/openapi.json", { key: null }), 200);
    expect(Object.keys(doc.paths).some((p) => p.startsWith("/__bench"))).toBe(false);
  });

  it("tags every response with a request id that errors repeat", async () => {
    const res = await api("GET", "/api/functions/fun_missing");
    const err = expectError(res, 404, "not_found");
    expect(res.headers.get("x-request-id")).toBe(err.requestId);

    // A JSON answer, a function's own answer over /run (whole, and streamed: a fetched Response's headers cannot
    // be changed in place), and the console's files.
    const t = await tenant();
    const fn = await newFunction(t.ws.id, { name: unique("tagged") });
    await deploy(fn.id, {
      "index.js": `export default { fetch(request) {
        if (new URL(request.url).pathname === "/stream") {
          const { readable, writable } = new TransformStream();
          const writer = writable.getWriter();
          setTimeout(() => writer.write(new TextEncoder().encode("late")).then(() => writer.close()), 20);
          return new Response(readable);
        }
        return new Response("whole", { headers: { "x-request-id": "forged" } });
      } };`,
    });
    const answers = [
      await api("GET", `/api/functions/${fn.id}`),
      await api("GET", `/run/${t.ws.id}/${fn.name}/`),
      await api("GET", `/run/${t.ws.id}/${fn.name}/stream`),
      await api("GET", "/", { key: null }),
    ];
    const ids = answers.map((r) => r.headers.get("x-request-id"));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(answers[1]?.body).toBe("whole");
    expect(answers[2]?.body).toBe("late");
  });

  it("rejects a body that is not JSON, or not an object, with a 400", async () => {
    expectError(await api("POST", "/api/workspaces", { raw: "{{{" }), 400, "bad_request");
    expectError(await api("POST", "/api/workspaces", { raw: "null" }), 400, "bad_request");
    const form = { raw: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } };
    const err = expectError(await api("POST", "/api/workspaces", form), 415, "unsupported_media_type");
    expect(err.message).toMatch(/application\/json/);
  });
});
