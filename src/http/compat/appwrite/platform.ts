/**
 * The rest of `/v1` that Appwrite's CLI calls around functions: the server's version, the console's variables, a
 * project, and the proxy rules of functions (here each function's own origin, `{function}.{workspace}.<run
 * domain>`, which every function answers on).
 */
import { findFunction, resolveProject } from "../../../domain/compat/appwrite/functions";
import { APPWRITE_VERSION } from "../../../domain/compat/appwrite/settings";
import { listFunctions } from "../../../domain/functions";
import { ApiError } from "../../../lib/errors";
import { LIMITS } from "../../../lib/limits";
import { runDomain } from "../../../lib/origin";
import type { FunctionRow } from "../../../storage/schema";
import { readJson } from "../kit";
import { RuleBody } from "./bodies";
import { type AwRouter, type C, projectOf, scope, withTotal } from "./context";
import { projectModel, ruleModel } from "./mapping";
import { type Attributes, DOCUMENT, parseQueries, toListQuery } from "./queries";

const escapeLike = (v: unknown) => String(v ?? "").replace(/[%_\\]/g, (ch) => `\\${ch}`);
const none = { id: { isNull: true } };
const all = { id: { isNull: false } };

/** The port the request reached the platform on ("" for the scheme's own). */
const portOf = (c: C) => new URL(c.req.url).port;

/** The attributes a rule can be queried on, as filters on the functions whose origins the rules are. */
function ruleAttributes(wsName: string, domain: string): Attributes {
  const suffix = `.${wsName.toLowerCase()}.${domain}`;
  return {
    ...DOCUMENT,
    domain: {
      custom: (v) => {
        const host = String(v).toLowerCase().replace(/:\d+$/, "");
        if (!host.endsWith(suffix)) return none;
        return { name: { ilike: escapeLike(host.slice(0, -suffix.length)) } };
      },
    },
    type: { custom: (v) => (v === "deployment" ? all : none) },
    trigger: { custom: (v) => (v === "manual" ? all : none) },
    deploymentResourceType: { custom: (v) => (v === "function" ? all : none) },
    deploymentResourceId: { custom: (v) => ({ or: [{ id: { eq: v } }, { externalId: { eq: v } }] }) },
    deploymentId: { field: "defaultVersionId" },
    deploymentVcsProviderBranch: { custom: (v) => (v === "" ? all : none) },
  };
}

export function registerPlatformRoutes(v1: AwRouter): void {
  // What `appwrite client --endpoint` checks first: public, as on Appwrite.
  v1.get("/health/version", (c) => c.json({ version: APPWRITE_VERSION }));

  v1.get("/console/variables", (c) => {
    scope(c, "projects.read");
    return c.json({
      _APP_DOMAIN_TARGET_CNAME: "",
      _APP_DOMAIN_TARGET_A: "",
      _APP_DOMAIN_TARGET_AAAA: "",
      _APP_STORAGE_LIMIT: 0,
      _APP_COMPUTE_SIZE_LIMIT: LIMITS.codeBytes,
      _APP_USAGE_STATS: "disabled",
      _APP_VCS_ENABLED: false,
      _APP_DOMAIN_ENABLED: false,
      _APP_ASSISTANT_ENABLED: false,
      _APP_DOMAIN_SITES: "",
      _APP_DOMAIN_FUNCTIONS: runDomain(c.env.EDGEFN_RUN_DOMAIN),
      _APP_OPTIONS_FORCE_HTTPS: new URL(c.req.url).protocol === "https:" ? "enabled" : "disabled",
      _APP_DOMAINS_NAMESERVERS: "",
    });
  });

  v1.get("/projects/:projectId", async (c) => {
    scope(c, "projects.read");
    return c.json(projectModel(await resolveProject(c.var.ctx, c.req.param("projectId"))));
  });

  v1.get("/proxy/rules", async (c) => {
    scope(c, "rules.read");
    const ws = await projectOf(c);
    const domain = runDomain(c.env.EDGEFN_RUN_DOMAIN);
    const { query } = toListQuery(parseQueries(c.req.url), ruleAttributes(ws.name, domain));
    const page = await listFunctions(c.var.ctx, { ...query, workspaceId: ws.id, system: false });
    const rules = page.rows.map((fn: FunctionRow) => ruleModel(fn, ws, domain, portOf(c)));
    return c.json({ total: withTotal(c, page.pageInfo.total), rules });
  });

  // A function's rule is its own origin: the domain asked for is not given, the one the function has is.
  v1.post("/proxy/rules/function", async (c) => {
    scope(c, "rules.write");
    const ws = await projectOf(c);
    const body = await readJson(c, RuleBody, { required: true });
    const fn = await findFunction(c.var.ctx, ws.id, body.functionId);
    return c.json(ruleModel(fn, ws, runDomain(c.env.EDGEFN_RUN_DOMAIN), portOf(c)), 201);
  });

  v1.get("/proxy/rules/:ruleId", async (c) => {
    scope(c, "rules.read");
    const ws = await projectOf(c);
    const id = c.req.param("ruleId");
    const fn = id.startsWith("rule-")
      ? await findFunction(c.var.ctx, ws.id, id.slice(5)).catch(() => undefined)
      : undefined;
    if (!fn) throw new ApiError("not_found", `rule ${id} not found`);
    return c.json(ruleModel(fn, ws, runDomain(c.env.EDGEFN_RUN_DOMAIN), portOf(c)));
  });
}
