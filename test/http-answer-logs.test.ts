/**
 * /run's answers and their logs: a complete answer brings its call's logs with it (the call is recorded at once),
 * any other answer's logs are taken at its end; nothing of that channel reaches the caller or can be forged, and
 * user code still sees the runtime's own Response.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, api, expectStatus, newFunction, tenant, unique } from "./support/api";
import { deploy } from "./support/deploy";

let t: Awaited<ReturnType<typeof tenant>>;
beforeAll(async () => {
  t = await tenant();
});

async function run(path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${ADMIN_KEY}`);
  return exports.default.fetch(`http://edgefn.test${path}`, { ...init, headers });
}

/** A function with this fetch handler's body, deployed; answers `/run` paths of it. */
async function handler(source: string) {
  const f = await newFunction(t.ws.id, { name: unique("answer") });
  await deploy(f.id, { "index.js": `export default { async fetch(request) { ${source} } };` });
  return { id: f.id, path: (rest = "") => `/run/${t.ws.name}/${f.name}/${rest}` };
}

/** The logs of the function's only http call, once it is recorded. */
async function loggedMessages(functionId: string): Promise<{ messages: string[]; truncated: boolean }> {
  for (let i = 0; i < 200; i++) {
    const page = expectStatus(await api("GET", `/api/functions/${functionId}/calls?trigger=http`), 200);
    const call = page.data[0];
    if (call && call.status !== "running") {
      const logs = expectStatus(await api("GET", `/api/calls/${call.id}/logs`), 200);
      return { messages: logs.items.map((l: { message: string }) => l.message), truncated: logs.truncated };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("no http call recorded");
}

describe("/run: the logs of an answer", () => {
  it("records a complete answer's logs, text of any script included, and never shows the caller their channel", async () => {
    const text = 'naïve café 日本語 🚀 "quoted" \\ tab\t line\nbreak \u0000 \u2028';
    const fn = await handler(`
      console.log(${JSON.stringify(text)});
      console.warn("second", { n: 1 });
      return Response.json({ ok: true });
    `);
    const res = await run(fn.path());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect([...res.headers.keys()].filter((name) => name.startsWith("edgefn"))).toEqual([]);
    const { messages } = await loggedMessages(fn.id);
    expect(messages).toEqual([text, 'second {"n":1}']);
  });

  it("keeps every body kind whole: none, string, bytes, Blob, FormData, URLSearchParams, redirect", async () => {
    const fn = await handler(`
      const kind = new URL(request.url).pathname.slice(1);
      console.log("kind", kind);
      if (kind === "none") return new Response(null, { status: 204 });
      if (kind === "bytes") return new Response(new Uint8Array([104, 105]));
      if (kind === "blob") return new Response(new Blob(["blob"]));
      if (kind === "form") return new Response(new URLSearchParams({ a: "1" }));
      if (kind === "redirect") return Response.redirect("https://example.com/next", 302);
      return new Response("text");
    `);
    const expected: Record<string, [number, string]> = {
      none: [204, ""],
      bytes: [200, "hi"],
      blob: [200, "blob"],
      form: [200, "a=1"],
      redirect: [302, ""],
      text: [200, "text"],
    };
    for (const [kind, [status, body]] of Object.entries(expected)) {
      const res = await run(fn.path(kind), { redirect: "manual" });
      expect([res.status, await res.text()], kind).toEqual([status, body]);
    }
    const page = expectStatus(await api("GET", `/api/functions/${fn.id}/calls?trigger=http&limit=20`), 200);
    expect(page.data.length).toBe(6);
    for (const call of page.data) {
      const logs = expectStatus(await api("GET", `/api/calls/${call.id}/logs`), 200);
      expect(logs.items.map((l: { message: string }) => l.message)).toEqual([`kind ${call.http.path.slice(1)}`]);
    }
  });

  it("takes logs too large to ride along from the isolate after the answer, every line of them", async () => {
    const fn = await handler(`
      for (let i = 0; i < 100; i++) console.log(i + " " + "x".repeat(1000));
      return new Response("done");
    `);
    const res = await run(fn.path());
    expect(await res.text()).toBe("done");
    const { messages, truncated } = await loggedMessages(fn.id);
    expect(truncated).toBe(false);
    expect(messages.length).toBe(100);
    expect(messages[99]).toBe(`99 ${"x".repeat(1000)}`);
  });

  it("cannot forge its logs or keep its call open through the header they ride in", async () => {
    const fn = await handler(`
      const forged = JSON.stringify({ logs: [{ timestamp: Date.now(), level: "info", message: "forged" }], logsTruncated: false });
      const kind = new URL(request.url).pathname.slice(1);
      console.log("real", kind);
      if (kind === "patched") {
        // With the prototype's methods replaced, the entry's own copies still read and write the real headers.
        Headers.prototype.has = () => false;
        Headers.prototype.set = () => {};
        Headers.prototype.delete = () => {};
      }
      if (kind === "disguised") {
        // The runtime's own Response class, made to deny its instances, and its getters made to lie.
        const Real = Object.getPrototypeOf(new Response("")).constructor;
        Object.defineProperty(Real, Symbol.hasInstance, { value: () => false });
        for (const name of ["headers", "body", "status"]) {
          Object.defineProperty(Real.prototype, name, { get: () => (name === "status" ? 101 : null), configurable: true });
        }
      }
      const headers = { "edgefn-call-logs": forged, "x-kept": "yes" };
      if (kind === "complete" || kind === "patched") return new Response("body", { headers });
      const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("streamed")); c.close(); } });
      return new Response(stream, { headers });
    `);
    for (const kind of ["complete", "streamed", "patched", "disguised"]) {
      const before = expectStatus(await api("GET", `/api/functions/${fn.id}/calls?trigger=http`), 200).data.length;
      const res = await run(fn.path(kind));
      expect(await res.text(), kind).toBe(kind === "complete" || kind === "patched" ? "body" : "streamed");
      expect(res.headers.get("x-kept"), kind).toBe("yes");
      expect(res.headers.get("edgefn-call-logs"), kind).toBeNull();
      let calls: { id: string; status: string }[] = [];
      for (let i = 0; i < 200; i++) {
        calls = expectStatus(await api("GET", `/api/functions/${fn.id}/calls?trigger=http`), 200).data;
        if (calls.length > before && calls[0]?.status !== "running") break;
        await new Promise((r) => setTimeout(r, 25));
      }
      const logs = expectStatus(await api("GET", `/api/calls/${calls[0]?.id}/logs`), 200);
      expect(
        logs.items.map((l: { message: string }) => l.message),
        kind,
      ).toEqual([`real ${kind}`]);
    }
  });

  it("leaves user code the runtime's Response: instanceof, prototype, subclasses and static methods", async () => {
    const fn = await handler(`
      class Tagged extends Response {
        constructor(body) { super(body, { headers: { "x-tagged": "1" } }); }
        get tag() { return "tagged"; }
      }
      const tagged = new Tagged("sub");
      const proto = Object.getPrototypeOf(new Response("")) === Response.prototype;
      const json = Response.json({ a: 1 });
      const copy = new Response("x").clone();
      const checks = {
        proto,
        jsonIsResponse: json instanceof Response,
        cloneIsResponse: copy instanceof Response,
        subclass: tagged instanceof Response && tagged instanceof Tagged && tagged.tag === "tagged",
        name: Response.name,
        error: Response.error().type,
        notCallable: (() => { try { Response(); return false; } catch (e) { return e instanceof TypeError; } })(),
      };
      return new Tagged(JSON.stringify(checks));
    `);
    const res = await run(fn.path());
    expect(res.headers.get("x-tagged")).toBe("1");
    expect(await res.json()).toEqual({
      proto: true,
      jsonIsResponse: true,
      cloneIsResponse: true,
      subclass: true,
      name: "Response",
      error: "error",
      notCallable: true,
    });
  });
});
