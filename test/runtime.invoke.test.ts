import { describe, expect, it } from "vitest";
import { expectStatus, newFunction, newWorkspace } from "./support/api";
import { deploy, invoke } from "./support/deploy";

describe("invoke", () => {
  it("builds a TypeScript function and runs it in an isolate", async () => {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id);
    const version = await deploy(fn.id, {
      "index.ts": `
        import { greet } from "./lib/greet";
        interface Input { name: string }
        export async function handle(data: Input, ctx: any): Promise<{ message: string; callId: string }> {
          console.log("hello from", data.name);
          return { message: greet(data.name), callId: ctx.call.callId };
        }`,
      "lib/greet.ts": `export const greet = (name: string): string => \`Hello, \${name}!\`;`,
    });
    expect(version).toMatchObject({ number: 1, status: "ready", isDefault: true, handlers: ["handle"] });
    const res = expectStatus(await invoke(fn.id, { name: "Ada" }), 200);
    expect(res).toMatchObject({ ok: true, result: { message: "Hello, Ada!" }, error: null, status: "completed" });
    expect(res.result.callId).toBe(res.callId);
    expect(res.callId).toMatch(/^call_/);
  });
});
