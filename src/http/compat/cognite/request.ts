/** Reading a request of the Cognite surface: its body, its limit and cursor, its path ids; and a list's answer. */
import type { Context } from "hono";
import type { z } from "zod";
import { cogniteError as failure, type Project } from "../../../domain/compat/cognite/project";
import { type CompatEnv, readJson } from "../kit";

export type CEnv = CompatEnv<{ project: Project }>;
export type C = Context<CEnv>;

/** A Cognite limit: -1 (all) becomes the most one answer holds; default 100. */
export const limitOf = (n: number | null | undefined, fallback = 100) =>
  n === undefined || n === null ? fallback : n <= 0 ? 10_000 : n;

export function queryLimit(c: C): { limit: number; cursor?: string } {
  const raw = c.req.query("limit");
  const n = raw === undefined ? undefined : Number(raw);
  if (n !== undefined && (!Number.isInteger(n) || n < -1 || n > 10_000)) {
    throw failure(400, "limit must be an integer from 1 to 10000 (or -1 for all)");
  }
  return { limit: limitOf(n), cursor: c.req.query("cursor") || undefined };
}

export function pathId(c: C, name: string): number {
  const n = Number(c.req.param(name));
  if (!Number.isSafeInteger(n) || n < 1) throw failure(400, `${name} must be a positive integer`);
  return n;
}

/** A list answer: its items, and `nextCursor` when there is more. */
export const page = <T>(r: { items: T[]; nextCursor?: string }, model: (item: T) => unknown) =>
  r.nextCursor ? { items: r.items.map(model), nextCursor: r.nextCursor } : { items: r.items.map(model) };

/** The body, required unless `optional` (a list's filter may be left out). */
export const read = <T extends z.ZodType>(c: C, schema: T, optional = false) =>
  readJson(c, schema, { required: !optional });
