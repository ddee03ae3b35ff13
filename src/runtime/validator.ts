/**
 * The validator isolate: where JSON Schema validation of tenant data runs, instead of in the host.
 *
 * Schemas (and the values checked against them) are user-supplied, and @cfworker/json-schema does unbounded work
 * on some of them: a `pattern` such as `^(a+)+$` backtracks catastrophically, `uniqueItems` compares every pair
 * of items, `enum` is compared with every item of an array. So the library runs in a dynamic isolate of its own,
 * one per workspace (a tenant's costly schemas delay only its own calls), with:
 * - a cpuMs limit: on Cloudflare it ends any runaway validation, native regular expressions included;
 * - the loop guard (guard.ts), inserted into the library's loops and functions like into user code: locally, where
 *   workerd enforces no CPU limit, it ends a runaway loop after VALIDATION_CPU_MS. A catastrophic regular
 *   expression is native code the guard cannot interrupt: locally nothing but a restart of the runtime ends it;
 * - `uniqueItems` made linear (canonical JSON keys): the library's pairwise loop is replaced in its source;
 * - a wall-clock timeout in the host, so a validation that takes too long fails clearly whatever happens inside.
 *
 * The library's modules reach the host bundle as text (`?raw` imports: Vite reads them in tests, a Text rule in
 * wrangler.toml in the deployed bundle) straight from node_modules; nothing of them is committed.
 */
import { type Node, parse } from "acorn";
import { ancestor } from "acorn-walk";
import deepCompareStrict from "../../node_modules/@cfworker/json-schema/dist/esm/deep-compare-strict.js?raw";
import dereference from "../../node_modules/@cfworker/json-schema/dist/esm/dereference.js?raw";
import format from "../../node_modules/@cfworker/json-schema/dist/esm/format.js?raw";
import pointer from "../../node_modules/@cfworker/json-schema/dist/esm/pointer.js?raw";
import ucs2Length from "../../node_modules/@cfworker/json-schema/dist/esm/ucs2-length.js?raw";
import validate from "../../node_modules/@cfworker/json-schema/dist/esm/validate.js?raw";
import validator from "../../node_modules/@cfworker/json-schema/dist/esm/validator.js?raw";
import type { Env } from "../env";
import { ISOLATE_COMPAT } from "./compat";
import { GUARD_MODULE, guardModuleSource } from "./guard";
import { instrumentModule } from "./instrument";
import entry from "./validator-entry.js?raw";

/**
 * How long one validation may compute: the validator isolate's cpuMs on Cloudflare, and locally the loop guard's
 * stretch limit. Not the 200 ms user code gets: validating 1 MiB of args against an honest schema takes a few
 * hundred ms (150,000 integers against `items: {type: "integer"}`: about 250 ms), and cannot yield.
 */
export const VALIDATION_CPU_MS = 1_000;
/** How long the host waits for one validation (wall clock, a cold isolate included) before it gives up on it. */
export const VALIDATION_TIMEOUT_MS = 2_000;

const ENTRY = "validator.js";
const LIB_DIR = "lib/";
/** The library's modules the validator needs (index.js and the type-only types.js are left out). */
const LIBRARY: Record<string, string> = {
  "deep-compare-strict.js": deepCompareStrict,
  "dereference.js": dereference,
  "format.js": format,
  "pointer.js": pointer,
  "ucs2-length.js": ucs2Length,
  "validate.js": validate,
  "validator.js": validator,
};

/**
 * What the validator isolate answers: the result, `missing` (it has not compiled that schema), `tooCostly` (the
 * loop guard ended the work), or `error` (the library threw: the schema cannot be evaluated).
 */
export type ValidateAnswer = { violations: string[] } | { missing: true } | { tooCostly: true } | { error: string };
export type CheckAnswer = { problems: string[] | null } | { tooCostly: true } | { error: string };
/** A request the validator did not answer: too slow in wall-clock time, or the isolate failed. */
export type Unanswered = { timedOut: true } | { failed: string };

/**
 * Why a validation ended without an answer, in words: "could not be validated within N ms" and the like.
 * `verb` is "validated" or "checked".
 */
export function unansweredReason(answer: { tooCostly: true } | Unanswered, verb: string): string {
  if ("tooCostly" in answer || /cpu/i.test("failed" in answer ? answer.failed : "")) {
    return `could not be ${verb} within ${VALIDATION_CPU_MS} ms: its patterns, uniqueItems or size make it too costly`;
  }
  if ("timedOut" in answer) return `could not be ${verb} within ${VALIDATION_TIMEOUT_MS} ms`;
  return `could not be ${verb}: ${answer.failed}`;
}

export interface ValidatorEntrypoint {
  validate(key: string, value: unknown, schema?: unknown): Promise<ValidateAnswer>;
  check(schema: unknown): Promise<CheckAnswer>;
}

/** The identifier the rewritten validate.js calls its linear uniqueItems check by (imported from the entry). */
const DUPLICATE_PAIR = "$edgefnDuplicatePair";

/**
 * validate.js with its `if ($uniqueItems) { ...pairwise loops... }` replaced by a call of the entry's linear
 * `duplicatePair`, reporting the same error; or null when the library's code is not shaped as expected (then
 * the library's own loop runs, still under the guard and cpuMs).
 */
export function linearUniqueItems(code: string): string | null {
  if (code.includes(DUPLICATE_PAIR)) return null;
  const ast = parse(code, { ecmaVersion: "latest", sourceType: "module" });
  type Located = Node & { start: number; end: number };
  const found: Located[] = [];
  ancestor(ast, {
    IfStatement(node, _state, ancestors) {
      const test = (node as unknown as { test: { type: string; name?: string } }).test;
      if (test.type !== "Identifier" || test.name !== "$uniqueItems") return;
      // Inside the library's validate(instance, ..., instanceLocation, schemaLocation), which collects `errors`.
      const fn = ancestors.findLast((a) => a.type.includes("Function")) as
        | (Node & { id?: { name: string }; params: { type: string; left?: { name?: string }; name?: string }[] })
        | undefined;
      const params = new Set(fn?.params.map((p) => p.name ?? p.left?.name) ?? []);
      const body = code.slice(node.start, node.end);
      if (
        fn?.type === "FunctionDeclaration" &&
        fn.id?.name === "validate" &&
        ["instance", "instanceLocation", "schemaLocation"].every((p) => params.has(p)) &&
        body.includes("errors.push(")
      ) {
        found.push(node as Located);
      }
    },
  });
  const [target] = found;
  if (found.length !== 1 || !target) return null;
  const replacement = `if ($uniqueItems) {
            const pair = ${DUPLICATE_PAIR}(instance);
            if (pair !== null) {
                errors.push({
                    instanceLocation,
                    keyword: 'uniqueItems',
                    keywordLocation: \`\${schemaLocation}/uniqueItems\`,
                    error: \`Duplicate items at indexes \${pair[0]} and \${pair[1]}.\`
                });
            }
        }`;
  return (
    `import { duplicatePair as ${DUPLICATE_PAIR} } from "../${ENTRY}";\n` +
    code.slice(0, target.start) +
    replacement +
    code.slice(target.end)
  );
}

/** Whether the running validator has the linear uniqueItems (false only if the library changed shape). */
export let uniqueItemsIsLinear = false;

let built: Record<string, string> | undefined;

/** The validator isolate's modules: the entry, the guard and the library instrumented with it (built once). */
export function validatorModules(): Record<string, string> {
  if (built) return built;
  const modules: Record<string, string> = {
    [ENTRY]: entry,
    [GUARD_MODULE]: guardModuleSource(VALIDATION_CPU_MS, []),
  };
  const guardSpecifier = `../${GUARD_MODULE}`;
  for (const [file, source] of Object.entries(LIBRARY)) {
    let code = source.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, "\n");
    if (file === "validate.js") {
      const linear = linearUniqueItems(code);
      uniqueItemsIsLinear = linear !== null;
      if (linear !== null) code = linear;
    }
    const name = `${LIB_DIR}${file}`;
    modules[name] = instrumentModule(code, { guardSpecifier, moduleName: name, resolve: (s) => s }).code;
  }
  built = modules;
  return modules;
}

/** FNV-1a over the sources the isolate is made of: the loader id changes whenever they do. */
function fingerprint(): string {
  let h = 0x811c9dc5;
  for (const text of [entry, ...Object.values(LIBRARY), linearUniqueItems.toString()]) {
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h.toString(36);
}
let codeId: string | undefined;

/** The validator isolate of a workspace (warm while the loader keeps it; one is made on first use). */
export function validatorIsolate(env: Env, workspaceId: string): ValidatorEntrypoint {
  codeId ??= fingerprint();
  const worker = env.LOADER.get(`validator:${codeId}:${workspaceId}`, () => ({
    compatibilityDate: ISOLATE_COMPAT.compatibilityDate,
    compatibilityFlags: [],
    mainModule: ENTRY,
    modules: validatorModules(),
    env: {},
    globalOutbound: null,
    limits: { cpuMs: VALIDATION_CPU_MS },
  }));
  return worker.getEntrypoint() as unknown as ValidatorEntrypoint;
}

/**
 * One request to a workspace's validator, bounded in wall-clock time: `timedOut` when it did not answer within
 * VALIDATION_TIMEOUT_MS, `failed` when the isolate did not answer (its CPU limit, its memory, a crash).
 */
export async function askValidator<T>(
  env: Env,
  workspaceId: string,
  ask: (v: ValidatorEntrypoint) => Promise<T>,
): Promise<T | Unanswered> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<{ timedOut: true }>((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true }), VALIDATION_TIMEOUT_MS);
  });
  try {
    return await Promise.race([ask(validatorIsolate(env, workspaceId)), timeout]);
  } catch (err) {
    return {
      failed:
        String((err as Error)?.message ?? err)
          .split("\n")[0]
          ?.slice(0, 500) ?? "",
    };
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}
