import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("platform", () => {
  it("answers /healthz", async () => {
    const res = await exports.default.fetch("http://edgefn.test/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, db: "ok" });
  });
});
