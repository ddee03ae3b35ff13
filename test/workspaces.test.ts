import { describe, expect, it } from "vitest";
import { api, expectError, expectStatus, newFunction, newKey, newWorkspace, tenant, unique } from "./support/api";

describe("workspaces", () => {
  it("creates, reads, renames and lists", async () => {
    const name = unique("acme");
    const ws = expectStatus(await api("POST", "/api/workspaces", { body: { name, description: "Acme" } }), 201);
    expect(ws).toEqual({
      id: expect.stringMatching(/^ws_/),
      name,
      description: "Acme",
      callRetentionDays: 14,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(expectStatus(await api("GET", `/api/workspaces/${ws.id}`), 200)).toEqual(ws);
    const renamed = expectStatus(await api("PATCH", `/api/workspaces/${ws.id}`, { body: { name: `${name}-2` } }), 200);
    expect(renamed).toMatchObject({ id: ws.id, name: `${name}-2`, description: "Acme" });
    const listed = expectStatus(
      await api("GET", `/api/workspaces?filter=${encodeURIComponent(JSON.stringify({ id: { eq: ws.id } }))}`),
      200,
    );
    expect(listed.data).toEqual([renamed]);
  });

  it("keeps calls for 14 days unless told otherwise, within 1 to 365", async () => {
    const ws = expectStatus(
      await api("POST", "/api/workspaces", { body: { name: unique("keep"), callRetentionDays: 30 } }),
      201,
    );
    expect(ws.callRetentionDays).toBe(30);
    const changed = expectStatus(
      await api("PATCH", `/api/workspaces/${ws.id}`, { body: { callRetentionDays: 1 } }),
      200,
    );
    expect(changed.callRetentionDays).toBe(1);
    for (const bad of [0, 366, 1.5, "7"]) {
      expectError(
        await api("PATCH", `/api/workspaces/${ws.id}`, { body: { callRetentionDays: bad } }),
        400,
        "bad_request",
      );
    }
    expect(expectStatus(await api("GET", `/api/workspaces/${ws.id}`), 200).callRetentionDays).toBe(1);
  });

  it("keeps names unique and URL-safe", async () => {
    const ws = await newWorkspace();
    expectError(await api("POST", "/api/workspaces", { body: { name: ws.name } }), 409, "conflict");
    const other = await newWorkspace();
    expectError(await api("PATCH", `/api/workspaces/${other.id}`, { body: { name: ws.name } }), 409, "conflict");
    for (const name of ["", "Upper", "has space", "-dash", "a/b", "x".repeat(64)]) {
      expect(expectError(await api("POST", "/api/workspaces", { body: { name } }), 400, "bad_request").message).toMatch(
        /name/,
      );
    }
    expectError(await api("PATCH", `/api/workspaces/${other.id}`, { body: {} }), 400, "bad_request");
  });

  it("shows a scoped key only its own workspace", async () => {
    const a = await tenant();
    const b = await newWorkspace();
    const listed = expectStatus(await api("GET", "/api/workspaces", { key: a.keys.viewer }), 200);
    expect(listed.data.map((w: any) => w.id)).toEqual([a.ws.id]);
    expect(listed.pageInfo.total).toBe(1);
    expectError(await api("GET", `/api/workspaces/${b.id}`, { key: a.keys.admin }), 404, "not_found");
  });

  it("refuses to delete a workspace that holds functions, soft-deleted ones included", async () => {
    const ws = await newWorkspace();
    const key = await newKey("viewer", ws.id);
    const fn = await newFunction(ws.id);
    expect(expectError(await api("DELETE", `/api/workspaces/${ws.id}`), 409, "conflict").message).toMatch(/1 function/);
    expectStatus(await api("DELETE", `/api/functions/${fn.id}`), 200);
    expectError(await api("DELETE", `/api/workspaces/${ws.id}`), 409, "conflict");
    expectStatus(await api("DELETE", `/api/functions/${fn.id}/purge`), 200);

    expect(expectStatus(await api("DELETE", `/api/workspaces/${ws.id}`), 200)).toEqual({ success: true });
    expectError(await api("GET", `/api/workspaces/${ws.id}`), 404, "not_found");
    // Keys scoped to the workspace go with it.
    expectError(await api("GET", "/api/workspaces", { key: key.key }), 401, "unauthorized");
    // Its name is free again.
    expectStatus(await api("POST", "/api/workspaces", { body: { name: ws.name } }), 201);
  });
});
