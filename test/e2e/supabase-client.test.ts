/**
 * Black-box: the official @supabase/functions-js client against a real local platform (`startPlatform()`),
 * pointed at `<host>/functions/v1` with an edgefn key of one workspace as its bearer token.
 */
import { FunctionsClient, FunctionsHttpError } from "@supabase/functions-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startPlatform } from "../../scripts/lib/platform.mjs";
import { api, deployFunction, ok } from "../reliability/e2e/client";

let p: LocalPlatform;
let client: FunctionsClient;

beforeAll(async () => {
  p = await startPlatform();
  const ws = await ok(api(p, "POST", "/api/workspaces", { name: "supabase" }), 201);
  const key = await ok(api(p, "POST", "/api/keys", { name: "sb", role: "invoker", workspaceId: ws.id }), 201);
  await deployFunction(
    p,
    ws.id,
    "hello",
    `export async function handle(data) {
      if (data && data.fail) throw new Error("asked to fail");
      return { message: "Hello " + (typeof data === "string" ? data : data?.name) };
    }`,
  );
  await deployFunction(
    p,
    ws.id,
    "shout",
    `export default { async fetch(request) {
      return new Response((await request.text()).toUpperCase(), { headers: { "content-type": "text/plain" } });
    } };`,
  );
  client = new FunctionsClient(`${p.url}/functions/v1`, { headers: { Authorization: `Bearer ${key.key}` } });
});

afterAll(async () => {
  await p?.stop();
});

describe("@supabase/functions-js against edgefn", () => {
  it("invokes with a JSON body: data is the function's result", async () => {
    const { data, error } = await client.invoke("hello", { body: { name: "edgefn" } });
    expect(error).toBeNull();
    expect(data).toEqual({ message: "Hello edgefn" });
  });

  it("invokes with a string body", async () => {
    const { data, error } = await client.invoke("hello", { body: "text" });
    expect(error).toBeNull();
    expect(data).toEqual({ message: "Hello text" });
  });

  it("reaches a fetch handler, whose text answer is data", async () => {
    const { data, error } = await client.invoke("shout", { body: "quiet" });
    expect(error).toBeNull();
    expect(data).toBe("QUIET");
  });

  it("a function that throws is a FunctionsHttpError carrying the error", async () => {
    const { data, error, response } = await client.invoke("hello", { body: { fail: true } });
    expect(data).toBeNull();
    expect(error).toBeInstanceOf(FunctionsHttpError);
    expect(response?.status).toBe(500);
    const body = await (error as FunctionsHttpError).context.json();
    expect(body.error.code).toBe("function_failed");
    expect(body.error.message).toMatch(/asked to fail/);
  });

  it("an unknown function is a FunctionsHttpError with 404", async () => {
    const { error, response } = await client.invoke("nope", { body: {} });
    expect(error).toBeInstanceOf(FunctionsHttpError);
    expect(response?.status).toBe(404);
  });

  it("a bad key is a FunctionsHttpError with 401", async () => {
    const bad = new FunctionsClient(`${p.url}/functions/v1`, { headers: { Authorization: "Bearer efn_bad" } });
    const { error, response } = await bad.invoke("hello", { body: {} });
    expect(error).toBeInstanceOf(FunctionsHttpError);
    expect(response?.status).toBe(401);
  });
});
