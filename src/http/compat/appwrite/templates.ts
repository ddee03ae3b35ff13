/** `/v1/functions/templates`: the platform's function templates (public, as on Appwrite). */
import { getTemplate, listTemplates } from "../../../domain/compat/appwrite/templates";
import { badRequest } from "../../../lib/errors";
import type { AwRouter } from "./context";

/** The values of a list parameter: `name[]=a&name[]=b`, `name[0]=a`, or `name=a`. */
function listParam(url: string, name: string): string[] {
  const out: string[] = [];
  for (const [key, value] of new URL(url).searchParams) {
    if (key === name || new RegExp(`^${name}\\[\\d*\\]$`).test(key)) out.push(value);
  }
  return out;
}

/** A `limit`/`offset` query parameter: `fallback` when absent, else an integer from `min` to 5000. */
function range(raw: string | undefined, name: string, min: number, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > 5000) {
    throw badRequest(`Invalid \`${name}\` param: Value must be a valid range between ${min} and 5,000`);
  }
  return n;
}

export function registerTemplateRoutes(aw: AwRouter): void {
  aw.get("/templates", (c) => {
    const limit = range(c.req.query("limit"), "limit", 1, 25);
    const offset = range(c.req.query("offset"), "offset", 0, 0);
    const all = listTemplates({
      runtimes: listParam(c.req.url, "runtimes"),
      useCases: listParam(c.req.url, "useCases"),
    });
    const total = c.req.query("total") === "false" ? 0 : all.length;
    return c.json({ total, templates: all.slice(offset, offset + limit) });
  });
  aw.get("/templates/:templateId", (c) => c.json(getTemplate(c.req.param("templateId"))));
}
