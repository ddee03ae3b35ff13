import { DurableObject } from "cloudflare:workers";
import { and, eq, isNotNull } from "drizzle-orm";
import { getDb } from "../db/client";
import { type FunctionRow, functions } from "../db/schema";
import type { Env } from "../env";
import { isUniqueViolation } from "../services/context";

/** What the object keeps of its function; D1 holds the full row, written through in the same operation. */
export interface LifecycleState {
  functionId: string;
  workspaceId: string;
  name: string;
  deletedAt: number | null;
  /** Bumped by every change of the function; later it keys the function's isolates. */
  revision: number;
}

export type FunctionPatch = Partial<
  Pick<
    FunctionRow,
    | "name"
    | "description"
    | "externalId"
    | "metadata"
    | "runtimeUserId"
    | "inputSchemaId"
    | "outputSchemaId"
    | "retentionTier"
  >
>;

/** Errors cross the RPC boundary as values: thrown errors would lose their class. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: "not_found" | "conflict"; message: string };

const STATE_KEY = "state";

/**
 * One per function: the single writer of its lifecycle. Every change runs one at a time (a D1 write is
 * I/O, so the runtime's input gate alone would let operations interleave) and writes D1 through before
 * it answers, so the object and D1 agree whatever arrives at once.
 */
export class FunctionObject extends DurableObject<Env> {
  private tail: Promise<unknown> = Promise.resolve();
  private state: LifecycleState | null | undefined;

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
    this.state = row
      ? { functionId, workspaceId: row.workspaceId, name: row.name, deletedAt: row.deletedAt, revision: 1 }
      : null;
    if (this.state) await this.ctx.storage.put(STATE_KEY, this.state);
    return this.state;
  }

  private async save(row: FunctionRow, previous: LifecycleState | null): Promise<FunctionRow> {
    this.state = {
      functionId: row.id,
      workspaceId: row.workspaceId,
      name: row.name,
      deletedAt: row.deletedAt,
      revision: (previous?.revision ?? 0) + 1,
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
          .set({ ...patch, updatedAt: now })
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
      await this.db.delete(functions).where(and(eq(functions.id, functionId), isNotNull(functions.deletedAt)));
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

function clash(row: { name?: string; externalId?: string | null; workspaceId: string }): Outcome<never> {
  const parts = [row.name && `name '${row.name}'`, row.externalId && `externalId '${row.externalId}'`].filter(Boolean);
  const what = parts.join(" or ") || "same name";
  return {
    ok: false,
    code: "conflict",
    message: `A live function with the ${what} already exists in workspace ${row.workspaceId}`,
  };
}
