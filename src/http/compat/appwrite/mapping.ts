/**
 * Appwrite's inputs as edgefn's, and the surface's answers that are not a row's model (those are in
 * src/domain/compat/appwrite/models.ts, which events use too): runtimes, specifications, a function's settings as
 * a patch, an execution's request, the attributes each list can be queried on, projects and rules.
 */
import type { ExecutionRequest } from "../../../domain/compat/appwrite/executions";
import { iso } from "../../../domain/compat/appwrite/models";
import { appwriteId } from "../../../domain/compat/appwrite/run";
import { META, RUNTIME_ID, RUNTIMES, SPECIFICATION } from "../../../domain/compat/appwrite/settings";
import { storableHeaders, stripCredentialsFrom } from "../../../lib/credentials";
import { badRequest } from "../../../lib/errors";
import { LIMITS } from "../../../lib/limits";
import type { FunctionRow, WorkspaceRow } from "../../../storage/schema";
import { type Attributes, DOCUMENT } from "./queries";

// ---------------------------------------------------------------------------------------------------------------
// Functions

export interface AppwriteFunctionInput {
  name?: string;
  runtime?: string;
  execute?: string[];
  events?: string[];
  schedule?: string;
  timeout?: number;
  enabled?: boolean;
  logging?: boolean;
  entrypoint?: string;
  commands?: string;
  scopes?: string[];
  specification?: string;
}

type MetaField = keyof typeof META;

export function runtimesList() {
  const runtimes = RUNTIMES.map(([id, name, version]) => ({
    $id: id,
    key: id.split("-")[0] as string,
    name,
    version,
    base: "workerd",
    image: "edgefn/workers-runtime",
    logo: `${id.split("-")[0]}.png`,
    supports: ["amd64"],
  }));
  return { total: runtimes.length, runtimes };
}

export function specificationsList() {
  const { slug, cpus, memory } = SPECIFICATION;
  return { total: 1, specifications: [{ memory, cpus, enabled: true, slug }] };
}

/** The edgefn create/update input for Appwrite's function fields (merged with the function's metadata). */
export function functionPatch(input: AppwriteFunctionInput, current: Record<string, string> | null) {
  if (input.runtime !== undefined && !RUNTIME_ID.test(input.runtime)) {
    throw badRequest(`runtime: '${input.runtime}' is not supported; use a node-*, bun-* or python-* runtime`);
  }
  const metadata: Record<string, string> = { ...(current ?? {}) };
  for (const field of Object.keys(META) as MetaField[]) {
    const value = input[field];
    if (value === undefined) continue;
    metadata[META[field]] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const out: { name?: string; metadata: Record<string, string>; timeoutMs?: number } = { metadata };
  if (input.name !== undefined) out.name = input.name;
  if (input.timeout !== undefined) {
    if (!Number.isInteger(input.timeout) || input.timeout < 1) throw badRequest("timeout: a whole number of seconds");
    out.timeoutMs = Math.min(Math.max(input.timeout * 1000, LIMITS.timeoutMs.min), LIMITS.timeoutMs.max);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Executions

/**
 * The request an execution describes. No credential of the platform's reaches the function, nor any
 * `x-appwrite-*` header of the caller's (the platform sets those: trigger, user, key); the record keeps the
 * headers without any that carries a credential.
 */
export function executionRequest(
  body: { method?: string; path?: string; headers?: Record<string, unknown> },
  adminKey: string | undefined,
): ExecutionRequest {
  const given: Record<string, string> = {};
  for (const [k, v] of Object.entries(body.headers ?? {})) {
    const name = k.toLowerCase();
    if (!name.startsWith("x-appwrite-")) given[name] = String(v);
  }
  const headers = stripCredentialsFrom(given, adminKey);
  const path = body.path || "/";
  return {
    method: body.method ?? "POST",
    path: path.startsWith("/") ? path : `/${path}`,
    headers,
    kept: storableHeaders(headers, adminKey),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The attributes each list can be queried on (Appwrite 1.7's), and how

const DEPLOYMENT_STATUS: Record<string, string> = { waiting: "queued", processing: "queued" };

const inSeconds = (v: unknown) => (typeof v === "number" ? v * 1000 : v);

/** An execution's Appwrite status as a filter on the call (see models.ts' executionStatus). */
function executionStatusFilter(value: unknown): Record<string, unknown> {
  const code = "appwrite";
  const now = Date.now();
  switch (value) {
    case "waiting":
      return { and: [{ status: { eq: "queued" } }, { not: { scheduledAt: { gt: now } } }] };
    case "scheduled":
      return { and: [{ status: { eq: "queued" } }, { scheduledAt: { gt: now } }] };
    case "processing":
      return { status: { eq: "running" } };
    case "completed":
      return { and: [{ status: { eq: "completed" } }, { [code]: { responseStatusCode: { lt: 500 } } }] };
    case "failed":
      return {
        or: [
          { status: { in: ["failed", "timeout", "canceled"] } },
          { and: [{ status: { eq: "completed" } }, { [code]: { responseStatusCode: { gte: 500 } } }] },
        ],
      };
    default:
      return { status: { eq: String(value) } };
  }
}

/** An execution's Appwrite trigger as a filter on the call (see models.ts' executionTrigger). */
function executionTriggerFilter(value: unknown): Record<string, unknown> {
  switch (value) {
    case "event":
      return { trigger: { eq: "event" } };
    case "schedule":
      return {
        or: [
          { trigger: { eq: "schedule" } },
          { and: [{ trigger: { eq: "api" } }, { scheduledAt: { isNull: false } }] },
        ],
      };
    case "http":
      return {
        or: [
          { trigger: { in: ["http", "retry"] } },
          { and: [{ trigger: { eq: "api" } }, { scheduledAt: { isNull: true } }] },
        ],
      };
    default:
      return { trigger: { eq: String(value) } };
  }
}

export const FUNCTION_ATTRIBUTES: Attributes = {
  ...DOCUMENT,
  // A function's Appwrite id is its externalId when it has one.
  $id: { field: "id", sortable: true, custom: (v) => ({ or: [{ id: { eq: v } }, { externalId: { eq: v } }] }) },
  name: { field: "name", sortable: true },
  enabled: { field: "appwrite.enabled" },
  runtime: { field: "appwrite.runtime" },
  deploymentId: { field: "defaultVersionId", sortable: true },
  schedule: { field: "appwrite.schedule" },
  scheduleNext: {},
  schedulePrevious: {},
  timeout: { field: "appwrite.timeout" },
  entrypoint: { field: "appwrite.entrypoint" },
  commands: { field: "appwrite.commands" },
  installationId: { field: "appwrite.installationId" },
};

export const DEPLOYMENT_ATTRIBUTES: Attributes = {
  ...DOCUMENT,
  buildSize: { field: "bundleSize", sortable: true },
  sourceSize: { field: "sourceSize", sortable: true },
  totalSize: { field: "appwrite.totalSize" },
  buildDuration: { field: "appwrite.buildDuration" },
  status: { field: "status", value: (v) => DEPLOYMENT_STATUS[String(v)] ?? v },
  activate: { field: "activate", sortable: true },
  // Every deployment here is an upload.
  type: { custom: (v) => (v === "manual" ? { id: { isNull: false } } : { id: { isNull: true } }) },
};

export const EXECUTION_ATTRIBUTES: Attributes = {
  ...DOCUMENT,
  $updatedAt: { field: "endTime", sortable: true },
  trigger: { custom: executionTriggerFilter },
  status: { custom: executionStatusFilter },
  responseStatusCode: { field: "appwrite.responseStatusCode" },
  duration: { field: "durationMs", value: inSeconds, sortable: true },
  requestMethod: { field: "appwrite.requestMethod" },
  requestPath: { field: "appwrite.requestPath" },
  deploymentId: { field: "versionId", sortable: true },
};

// ---------------------------------------------------------------------------------------------------------------
// Projects and rules

/** Appwrite's Project model of a workspace (the settings of services edgefn does not have are their defaults). */
export function projectModel(ws: WorkspaceRow) {
  const services = ["account", "avatars", "databases", "locale", "health", "storage", "teams", "users", "sites"];
  return {
    $id: ws.id,
    $createdAt: iso(ws.createdAt),
    $updatedAt: iso(ws.updatedAt),
    name: ws.name,
    description: ws.description ?? "",
    teamId: "",
    logo: "",
    url: "",
    legalName: "",
    legalCountry: "",
    legalState: "",
    legalCity: "",
    legalAddress: "",
    legalTaxId: "",
    authDuration: 31536000,
    authLimit: 0,
    authSessionsLimit: 10,
    authPasswordHistory: 0,
    authPasswordDictionary: false,
    authPersonalDataCheck: false,
    authMockNumbers: [],
    authSessionAlerts: false,
    authMembershipsUserName: false,
    authMembershipsUserEmail: false,
    authMembershipsMfa: false,
    oAuthProviders: [],
    platforms: [],
    webhooks: [],
    keys: [],
    devKeys: [],
    smtpEnabled: false,
    smtpSenderName: "",
    smtpSenderEmail: "",
    smtpReplyTo: "",
    smtpHost: "",
    smtpPort: "",
    smtpUsername: "",
    smtpPassword: "",
    smtpSecure: "",
    pingCount: 0,
    pingedAt: "",
    ...Object.fromEntries(services.map((s) => [`serviceStatusFor${s[0]?.toUpperCase()}${s.slice(1)}`, false])),
    serviceStatusForFunctions: true,
    serviceStatusForGraphql: false,
    serviceStatusForMessaging: false,
  };
}

/**
 * Appwrite's Rule model for a function's own origin, `{function}.{workspace}.<run domain>` (with the port the
 * platform was reached on): the domain every function answers on here.
 */
export function ruleModel(fn: FunctionRow, ws: Pick<WorkspaceRow, "name">, domain: string, port: string) {
  const host = `${fn.name.toLowerCase()}.${ws.name.toLowerCase()}.${domain}${port ? `:${port}` : ""}`;
  return {
    $id: `rule-${fn.id}`,
    $createdAt: iso(fn.createdAt),
    $updatedAt: iso(fn.updatedAt),
    domain: host,
    type: "deployment",
    trigger: "manual",
    redirectUrl: "",
    redirectStatusCode: 301,
    deploymentId: fn.defaultVersionId ?? "",
    deploymentResourceType: "function",
    deploymentResourceId: appwriteId(fn),
    deploymentVcsProviderBranch: "",
    status: "verified",
    logs: "",
    renewAt: "",
  };
}
