import { DurableObject } from "cloudflare:workers";
import { and, eq, isNotNull, max, sql } from "drizzle-orm";
import { deleteCallsOfFunction } from "../domain/calls/sweep";
import { isUniqueViolation } from "../domain/context";
import type { FunctionPatch, Outcome } from "../domain/functions/lifecycle";
import { deleteSchedulesOfFunction } from "../domain/schedules";
import { releaseCode, releaseSnapshots } from "../domain/versions/code";
import type { Env } from "../env";
import { getDb } from "../storage/db";
import { type FunctionRow, functions, type VersionRow, versions } from "../storage/schema";

/** What the object keeps of its function; D1 holds the full row, written through in the same operation. */
export interface LifecycleState {
  functionId: string;
  workspaceId: string;
  name: string;
  deletedAt: number | null;
  /** Bumped by every change of the function. */
  revision: number;
  /** The highest version number handed out. */
  lastVersion: number;
}

/** Fields whose change alters what the isolate sees or how it runs: changing one bumps configRevision. */
const RUNTIME_FIELDS = ["envVars", "secrets", "timeoutMs", "cpuMs", "allowedHosts", "inputSchemaId", "outputSchemaId"];

const STATE_KEY = "state";

/**
 * One per function: the single writer of its lifecycle. Every change runs one at a time (a D1 write is
 * I/O, so the runtime's input gate alone would let operations interleave) and writes D1 through before
 * it answers, so the object and D1 agree whatever arrives at once.
 */
export class FunctionObject extends DurableObject<Env> {
  private tail: Promise<unknown> = Promise.resolve();
  private state: LifecycleState | null | undefined;

  private window = { minute: -1, count: 0 };

  /**
   * Admits one /run request under a per-minute limit, counted in this object's memory (a fixed window of the
   * clock's minute; an evicted object starts counting again).
   */
  admit(limit: number, now: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const minute = Math.floor(now / 60_000);
    if (this.window.minute !== minute) this.window = { minute, count: 0 };
    if (this.window.count >= limit) {
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000)) };
    }
    this.window.count++;
    return { ok: true };
  }

  private serially<T>(op: () => Promise<T>): Promise<T> {
    const run = this.tail.then(op, op);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private get db() {
    return getDb(this.env.DB);
  }

  /** The stored state, or the D1 row for a function this object has not seen yet (null: no such function). */
  private async load(functionId: string): Promise<LifecycleState | null> {
    if (this.state !== undefined) return this.state;
    const stored = await this.ctx.storage.get<LifecycleState>(STATE_KEY);
    if (stored) {
      this.state = stored;
      return stored;
    }
    const row = await this.db.select().from(functions).where(eq(functions.id, functionId)).get();
    if (row) {
      const [last] = await this.db
        .select({ n: max(versions.number) })
        .from(versions)
        .where(eq(versions.functionId, functionId));
      this.state = {
        functionId,
        workspaceId: row.workspaceId,
        name: row.name,
        deletedAt: row.deletedAt,
        revision: 1,
        lastVersion: last?.n ?? 0,
      };
    } else this.state = null;
    if (this.state) await this.ctx.storage.put(STATE_KEY, this.state);
    return this.state;
  }

  private async save(row: FunctionRow, previous: LifecycleState | null, lastVersion?: number): Promise<FunctionRow> {
    this.state = {
      functionId: row.id,
      workspaceId: row.workspaceId,
      name: row.name,
      deletedAt: row.deletedAt,
      revision: (previous?.revision ?? 0) + 1,
      lastVersion: lastVersion ?? previous?.lastVersion ?? 0,
    };
    await this.ctx.storage.put(STATE_KEY, this.state);
    return row;
  }

  create(row: FunctionRow): Promise<Outcome<FunctionRow>> {
    return this.serially(async () => {
      try {
        await this.db.insert(functions).values(row);
      } catch (err) {
        if (isUniqueViolation(err)) return clash(row);
        throw err;
      }
      return { ok: true, value: await this.save(row, null) };
    });
  }

  update(functionId: string, patch: FunctionPatch, now: number): Promise<Outcome<FunctionRow>> {
    return this.serially(async () => {
      const state = await this.load(functionId);
      if (!state) return missing(functionId);
      if (state.deletedAt !== null)
        return { ok: false, code: "conflict", message: `Function ${functionId} is deleted; restore it first` };
      let row: FunctionRow | undefined;
      try {
        [row] = await this.db
          .update(functions)
          .set({
            ...patch,
            updatedAt: now,
            ...(RUNTIME_FIELDS.some((f) => f in patch) ? { configRevision: sql`${functions.configRevision} + 1` } : {}),
          })
          .where(eq(functions.id, functionId))
          .returning();
      } catch (err) {
        if (isUniqueViolation(err)) return clash({ ...patch, workspaceId: state.workspaceId });
        throw err;
      }
      if (!row) return missing(functionId);
      return { ok: true, value: await this.save(row, state) };
    });
  }

  /**
   * Stores the same secrets sealed anew (a key rotation's re-encryption), if the function still holds `expected`:
   * false when a change came first (seal them again from what it holds now). Deleted functions too, since a
   * restore brings their secrets back. The values are unchanged, so configRevision and updatedAt stay.
   */
  replaceSecrets(
    functionId: string,
    expected: Record<string, string>,
    next: Record<string, string>,
  ): Promise<Outcome<boolean>> {
    return this.serially(async () => {
      const row = await this.db
        .select({ secrets: functions.secrets })
        .from(functions)
        .where(eq(functions.id, functionId))
        .get();
      if (!row) return missing(functionId);
      const held = Object.entries(row.secrets ?? {});
      const same = held.length === Object.keys(expected).length && held.every(([k, v]) => expected[k] === v);
      const keysKept = Object.keys(next).length === held.length && held.every(([k]) => Object.hasOwn(next, k));
      if (!same || !keysKept) return { ok: true, value: false };
      await this.db.update(functions).set({ secrets: next }).where(eq(functions.id, functionId));
      return { ok: true, value: true };
    });
  }

  softDelete(functionId: string, now: number): Promise<Outcome<FunctionRow>> {
    return this.serially(async () => {
      const state = await this.load(functionId);
      if (!state) return missing(functionId);
      if (state.deletedAt !== null)
        return { ok: false, code: "conflict", message: `Function ${functionId} is already deleted` };
      const [row] = await this.db
        .update(functions)
        .set({ deletedAt: now, updatedAt: now })
        .where(eq(functions.id, functionId))
        .returning();
      if (!row) return missing(functionId);
      return { ok: true, value: await this.save(row, state) };
    });
  }

  restore(functionId: string, now: number): Promise<Outcome<FunctionRow>> {
    return this.serially(async () => {
      const state = await this.load(functionId);
      if (!state) return missing(functionId);
      if (state.deletedAt === null)
        return { ok: false, code: "conflict", message: `Function ${functionId} is not deleted` };
      let row: FunctionRow | undefined;
      try {
        [row] = await this.db
          .update(functions)
          .set({ deletedAt: null, updatedAt: now })
          .where(eq(functions.id, functionId))
          .returning();
      } catch (err) {
        if (isUniqueViolation(err)) {
          return {
            ok: false,
            code: "conflict",
            message: `Cannot restore ${functionId}: the name '${state.name}' has since been taken by another function; rename that one first`,
          };
        }
        throw err;
      }
      if (!row) return missing(functionId);
      return { ok: true, value: await this.save(row, state) };
    });
  }

  /** Numbers and records a new version: numbers grow by one, with no gap and no duplicate. */
  createVersion(row: Omit<VersionRow, "number">): Promise<Outcome<VersionRow>> {
    return this.serially(async () => {
      const state = await this.load(row.functionId);
      if (!state) return missing(row.functionId);
      if (state.deletedAt !== null) return deletedConflict(row.functionId);
      const version = { ...row, number: state.lastVersion + 1 };
      await this.db.insert(versions).values(version);
      this.state = { ...state, lastVersion: version.number };
      await this.ctx.storage.put(STATE_KEY, this.state);
      return { ok: true, value: version };
    });
  }

  /** The function's state and one of its versions, or why not: no such function, a deleted one, no such version. */
  private async liveVersion(
    functionId: string,
    versionId: string,
  ): Promise<Outcome<{ state: LifecycleState; version: VersionRow }>> {
    const state = await this.load(functionId);
    if (!state) return missing(functionId);
    if (state.deletedAt !== null) return deletedConflict(functionId);
    const version = await this.db.select().from(versions).where(eq(versions.id, versionId)).get();
    if (!version || version.functionId !== functionId) {
      return { ok: false, code: "not_found", message: `version ${versionId} not found` };
    }
    return { ok: true, value: { state, version } };
  }

  /** Makes a ready version the default (a rollback when it is older). */
  activate(functionId: string, versionId: string, now: number): Promise<Outcome<FunctionRow>> {
    return this.serially(async () => {
      const found = await this.liveVersion(functionId, versionId);
      if (!found.ok) return found;
      const { state, version } = found.value;
      if (version.status !== "ready") {
        return {
          ok: false,
          code: "conflict",
          message: `Version ${versionId} is ${version.status}; only a ready version can be activated`,
        };
      }
      return this.setDefault(state, functionId, versionId, now);
    });
  }

  /**
   * A build finished: the version becomes the default if its upload asked for that and no newer version is
   * already the default (builds may finish out of order).
   */
  versionReady(functionId: string, versionId: string, now: number): Promise<Outcome<FunctionRow | null>> {
    return this.serially(async () => {
      const state = await this.load(functionId);
      if (!state || state.deletedAt !== null) return { ok: true, value: null };
      const version = await this.db.select().from(versions).where(eq(versions.id, versionId)).get();
      if (version?.status !== "ready" || !version.activate) return { ok: true, value: null };
      const current = await this.db
        .select({ number: versions.number })
        .from(functions)
        .innerJoin(versions, eq(versions.id, functions.defaultVersionId))
        .where(eq(functions.id, functionId))
        .get();
      if (current && current.number > version.number) return { ok: true, value: null };
      return this.setDefault(state, functionId, versionId, now);
    });
  }

  private async setDefault(
    state: LifecycleState,
    functionId: string,
    versionId: string,
    now: number,
  ): Promise<Outcome<FunctionRow>> {
    const [row] = await this.db
      .update(functions)
      .set({ defaultVersionId: versionId, updatedAt: now })
      .where(eq(functions.id, functionId))
      .returning();
    if (!row) return missing(functionId);
    return { ok: true, value: await this.save(row, state) };
  }

  /**
   * Deletes one version for good (its number is not handed out again). When it is the default, the function is
   * left without one. Its code objects go unless another version uses them.
   */
  deleteVersion(functionId: string, versionId: string, now: number): Promise<Outcome<true>> {
    return this.serially(async () => {
      const found = await this.liveVersion(functionId, versionId);
      if (!found.ok) return found;
      const { state, version } = found.value;
      const [, cleared] = await this.db.batch([
        this.db.delete(versions).where(eq(versions.id, versionId)),
        this.db
          .update(functions)
          .set({ defaultVersionId: null, updatedAt: now })
          .where(and(eq(functions.id, functionId), eq(functions.defaultVersionId, versionId)))
          .returning(),
      ]);
      const row = cleared[0];
      if (row) await this.save(row, state);
      await releaseCode(this.db, this.env, [version.sourceKey, version.bundleKey]);
      return { ok: true, value: true as const };
    });
  }

  /** Permanently removes a soft-deleted function. */
  purge(functionId: string): Promise<Outcome<true>> {
    return this.serially(async () => {
      const state = await this.load(functionId);
      if (!state) return missing(functionId);
      if (state.deletedAt === null) {
        return {
          ok: false,
          code: "conflict",
          message: `Function ${functionId} is not deleted; delete it before purging`,
        };
      }
      const held = await this.db
        .select({ sourceKey: versions.sourceKey, bundleKey: versions.bundleKey })
        .from(versions)
        .where(eq(versions.functionId, functionId));
      await this.db.batch([
        this.db.delete(versions).where(eq(versions.functionId, functionId)),
        this.db.delete(functions).where(and(eq(functions.id, functionId), isNotNull(functions.deletedAt))),
      ]);
      await releaseCode(
        this.db,
        this.env,
        held.flatMap((v) => [v.sourceKey, v.bundleKey]),
      );
      await releaseSnapshots(this.env, functionId);
      await deleteCallsOfFunction(this.db, this.env, functionId);
      await deleteSchedulesOfFunction(this.db, this.env, functionId);
      await this.ctx.storage.deleteAll();
      this.state = null;
      return { ok: true, value: true as const };
    });
  }

  /** The object's view of its function, for consistency checks. */
  async snapshot(functionId: string): Promise<LifecycleState | null> {
    return this.serially(() => this.load(functionId));
  }
}

function missing(functionId: string): Outcome<never> {
  return { ok: false, code: "not_found", message: `function ${functionId} not found` };
}

function deletedConflict(functionId: string): Outcome<never> {
  return { ok: false, code: "conflict", message: `Function ${functionId} is deleted; restore it first` };
}

function clash(row: { name?: string; externalId?: string | null; workspaceId: string }): Outcome<never> {
  const parts = [row.name && `name '${row.name}'`, row.externalId && `externalId '${row.externalId}'`].filter(Boolean);
  const what = parts.join(" or ") || "same name";
  return {
    ok: false,
    code: "conflict",
    message: `A live function with the ${what} already exists in workspace ${row.workspaceId}`,
  };
}
