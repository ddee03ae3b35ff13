/**
 * The code of a Gcore function's versions: `code_text` + `main_method` become an upload of two files, the user's
 * module and a generated entry that exports `handle` and a `fetch` handler calling `main_method` (the generic
 * contract of src/runtime/entry.ts). Generated per version, when the code is uploaded.
 */

/** The files a Gcore function's versions are made of. */
export const USER_FILE = "user.js";
export const ENTRY_FILE = "gcore-entry.js";
export const DEPENDENCIES_FILE = "dependencies.txt";

const CJS_PREFIX = "const module = { exports: {} };\nconst exports = module.exports;\n";
const CJS_SUFFIX = "\n;export default module.exports;\n";

/** True when the code has no ESM export: it is then run as CommonJS (`module.exports` / `exports.x`). */
export function isCommonJs(code: string): boolean {
  return !/^\s*export\s/m.test(code);
}

/** The user's module: ESM as written, or CommonJS wrapped so that `module.exports` becomes its default export. */
export function userModule(code: string): string {
  if (!isCommonJs(code)) return code;
  return `${CJS_PREFIX}${code}${CJS_SUFFIX}`;
}

/** The code as the user sent it: the user's module with the CommonJS wrapper taken off. */
export function codeOf(module: string): string {
  return module.startsWith(CJS_PREFIX) && module.endsWith(CJS_SUFFIX)
    ? module.slice(CJS_PREFIX.length, -CJS_SUFFIX.length)
    : module;
}

/**
 * The generated entry: `handle(data, ctx)` calls `main_method` with the call's args, and `fetch` calls it with the
 * request's data (the query of a GET, else the body: JSON when it parses, else text) and answers its result
 * (a Response as is, a string as text, anything else as JSON). A `main_method` the code does not export fails the
 * build, whose message says so.
 */
export function entryModule(mainMethod: string, commonJs: boolean): string {
  const name = JSON.stringify(mainMethod);
  return `import * as user from "./${USER_FILE}";
const mod = ${commonJs ? "user.default ?? {}" : "user"};
const main = mod[${name}];
if (typeof main !== "function") {
  throw new Error("main_method " + ${JSON.stringify(JSON.stringify(mainMethod))} + " is not a function exported by code_text");
}

export async function handle(data, ctx) {
  return main(data, ctx);
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    let data = null;
    if (request.method === "GET" || request.method === "HEAD") {
      data = Object.fromEntries(url.searchParams);
    } else {
      const text = await request.text();
      if (text) {
        try {
          data = JSON.parse(text);
        } catch {
          data = text;
        }
      }
    }
    const result = await main(data, { env, request });
    if (result instanceof Response) return result;
    if (typeof result === "string") return new Response(result, { headers: { "content-type": "text/plain; charset=utf-8" } });
    return Response.json(result === undefined ? null : result);
  },
};
`;
}

/** The files of a version of a Gcore function. */
export function gcoreFiles(code: string, mainMethod: string, deps: string): Record<string, string> {
  const files: Record<string, string> = {
    [USER_FILE]: userModule(code),
    [ENTRY_FILE]: entryModule(mainMethod, isCommonJs(code)),
  };
  if (deps) files[DEPENDENCIES_FILE] = deps;
  return files;
}
