/**
 * Function templates: a few small functions that ship with the platform, as Appwrite lists its templates
 * (`GET /v1/functions/templates`) and deploys one (`POST .../deployments/template` with the template's repository,
 * owner and root directory: `templates`, `edgefn`, `<runtime>/<template>`). Platform data: no repository is cloned.
 */
import type { FunctionRow, VersionRow } from "../../../storage/schema";
import type { ServiceContext } from "../../context";
import { createVersion } from "../../versions";
import { appwriteFailure } from "./failures";
import { RUNTIMES } from "./settings";

export const TEMPLATES_OWNER = "edgefn";
export const TEMPLATES_REPOSITORY = "templates";
export const TEMPLATES_VERSION = "1.0.0";
const ENTRYPOINT = "src/main.js";

interface Template {
  id: string;
  name: string;
  tagline: string;
  icon: string;
  useCases: string[];
  instructions: string;
  files: Record<string, string>;
}

const readme = (name: string, text: string) => `# ${name}\n\n${text}\n`;

const TEMPLATES: Template[] = [
  {
    id: "starter",
    name: "Starter function",
    tagline: "A function that answers every request with a little JSON about it.",
    icon: "icon-lightning-bolt",
    useCases: ["starter"],
    instructions: "Deploy it, then execute it: it answers with the method and path it was called with.",
    files: {
      [ENTRYPOINT]: `export default async ({ req, res, log }) => {
  log(\`\${req.method} \${req.path}\`);
  if (req.path === "/ping") return res.text("pong");
  return res.json({ ok: true, method: req.method, path: req.path, at: new Date().toISOString() });
};
`,
      "package.json": `${JSON.stringify({ name: "starter", version: "1.0.0", type: "module", main: ENTRYPOINT }, null, 2)}\n`,
      "README.md": readme("Starter function", "Answers `GET /ping` with `pong`, and anything else with JSON."),
    },
  },
  {
    id: "json-echo",
    name: "JSON echo",
    tagline: "Sends back the JSON body it receives, with the request's method, path and query.",
    icon: "icon-code",
    useCases: ["dev-tools", "utilities"],
    instructions: "Execute it with a JSON body: the answer holds that body as `received`.",
    files: {
      [ENTRYPOINT]: `export default async ({ req, res, error }) => {
  if (req.bodyText !== "" && req.bodyJson === null) {
    error("The body is not JSON");
    return res.json({ error: "send a JSON body" }, 400);
  }
  return res.json({ received: req.bodyJson, method: req.method, path: req.path, query: req.query });
};
`,
      "package.json": `${JSON.stringify({ name: "json-echo", version: "1.0.0", type: "module", main: ENTRYPOINT }, null, 2)}\n`,
      "README.md": readme("JSON echo", "Answers with the JSON body it was sent (400 when the body is not JSON)."),
    },
  },
  {
    id: "hello-http",
    name: "Hello, HTTP",
    tagline: "Greets whoever calls it by the name in its query string, as plain text.",
    icon: "icon-globe",
    useCases: ["starter"],
    instructions: "Execute it with the path `/?name=Ada`, or open its URL with that query.",
    files: {
      [ENTRYPOINT]: `export default async ({ req, res }) => {
  const name = (req.query.name ?? "").trim() || "world";
  return res.text(\`Hello, \${name}!\`, 200, { "cache-control": "no-store" });
};
`,
      "package.json": `${JSON.stringify({ name: "hello-http", version: "1.0.0", type: "module", main: ENTRYPOINT }, null, 2)}\n`,
      "README.md": readme("Hello, HTTP", "Answers `Hello, <name>!` for `?name=<name>`."),
    },
  },
];

/** Every runtime the surface accepts runs every template: their folders in the templates repository. */
const runtimesOf = (t: Template) =>
  RUNTIMES.map(([id]) => ({
    name: id,
    commands: "",
    entrypoint: ENTRYPOINT,
    providerRootDirectory: `${id.split("-")[0]}/${t.id}`,
  }));

/** Appwrite's TemplateFunction model. */
export function templateModel(t: Template) {
  return {
    icon: t.icon,
    id: t.id,
    name: t.name,
    tagline: t.tagline,
    permissions: ["any"],
    events: [],
    cron: "",
    timeout: 15,
    useCases: t.useCases,
    runtimes: runtimesOf(t),
    instructions: t.instructions,
    vcsProvider: "github",
    providerRepositoryId: TEMPLATES_REPOSITORY,
    providerOwner: TEMPLATES_OWNER,
    providerVersion: TEMPLATES_VERSION,
    variables: [],
    scopes: [],
  };
}

/** The templates that run on one of `runtimes` and serve one of `useCases` (either empty: any). */
export function listTemplates(filter: { runtimes: string[]; useCases: string[] }) {
  return TEMPLATES.filter(
    (t) =>
      (filter.useCases.length === 0 || t.useCases.some((u) => filter.useCases.includes(u))) &&
      (filter.runtimes.length === 0 || runtimesOf(t).some((r) => filter.runtimes.includes(r.name))),
  ).map(templateModel);
}

const missing = () =>
  appwriteFailure(
    "not_found",
    "function_template_not_found",
    "Function Template with the requested ID could not be found.",
  );

export function getTemplate(id: string) {
  const t = TEMPLATES.find((x) => x.id === id);
  if (!t) throw missing();
  return templateModel(t);
}

/**
 * A deployment of a template, named as Appwrite names one: the templates repository, its owner and the template's
 * folder (`node/starter`, or the template's id alone). Anything else is `function_template_not_found`.
 */
export async function deployTemplate(
  ctx: ServiceContext,
  fn: FunctionRow,
  source: { repository: string; owner: string; rootDirectory: string; activate: boolean },
): Promise<VersionRow> {
  if (source.owner !== TEMPLATES_OWNER || source.repository !== TEMPLATES_REPOSITORY) throw missing();
  const folder = source.rootDirectory.replace(/^\/+|\/+$/g, "");
  const t = TEMPLATES.find((x) => x.id === folder || runtimesOf(x).some((r) => r.providerRootDirectory === folder));
  if (!t) throw missing();
  return createVersion(ctx, fn.id, { files: t.files, entrypoint: ENTRYPOINT, activate: source.activate });
}
