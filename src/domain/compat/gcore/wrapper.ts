/**
 * The code of a Gcore function's versions: `code_text` + `main_method` become an upload of two files, the user's
 * module and a generated entry that exports `handle` and a `fetch` handler calling `main_method` (the generic
 * contract of src/runtime/entry.ts). Generated per version, when the code is uploaded. A `python3...` runtime gets
 * the same in Python: `user.py` and `gcore_entry.py` (with `handle` and `on_fetch`), and its `dependencies` as
 * requirements.txt.
 */

/** The files a Gcore function's versions are made of. */
export const USER_FILE = "user.js";
export const ENTRY_FILE = "gcore-entry.js";
export const DEPENDENCIES_FILE = "dependencies.txt";
export const PY_USER_FILE = "user.py";
export const PY_ENTRY_FILE = "gcore_entry.py";
export const PY_DEPENDENCIES_FILE = "requirements.txt";

/** A Gcore runtime name that means Python ("python3.7.12", "python3.11"). */
export const isPythonRuntime = (runtime: string | undefined) => !!runtime && /^python/i.test(runtime);

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

/**
 * The generated Python entry: `handle(data, ctx)` and `on_fetch(request)` call `main_method` with as many of
 * (data, ctx) as it declares, as the JavaScript entry does, and answer its result over HTTP the same way.
 */
export function pythonEntryModule(mainMethod: string): string {
  return `import inspect
import json
import os
from urllib.parse import parse_qsl, urlsplit

import user as _user
from workers import Response

_MAIN = ${JSON.stringify(mainMethod)}
_main = getattr(_user, _MAIN, None)
if not callable(_main):
    raise AttributeError("main_method '%s' is not a function defined by code_text" % _MAIN)

_positional = [
    p
    for p in inspect.signature(_main).parameters.values()
    if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
]
_varargs = any(p.kind == p.VAR_POSITIONAL for p in inspect.signature(_main).parameters.values())


async def _run(data, ctx):
    args = [data, ctx] if _varargs else [data, ctx][: len(_positional)]
    result = _main(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


async def handle(data, ctx):
    return await _run(data, ctx)


async def on_fetch(request):
    data = None
    if request.method in ("GET", "HEAD"):
        data = dict(parse_qsl(urlsplit(request.url).query))
    else:
        text = await request.text()
        if text:
            try:
                data = json.loads(text)
            except ValueError:
                data = text
    result = await _run(data, {"env": dict(os.environ), "request": request})
    if isinstance(result, Response):
        return result
    if isinstance(result, str):
        return Response(result, headers={"content-type": "text/plain; charset=utf-8"})
    return Response.json(result)
`;
}

/** The files of a version of a Gcore function. */
export function gcoreFiles(code: string, mainMethod: string, deps: string, runtime?: string): Record<string, string> {
  if (isPythonRuntime(runtime)) {
    const files: Record<string, string> = { [PY_USER_FILE]: code, [PY_ENTRY_FILE]: pythonEntryModule(mainMethod) };
    if (deps) files[PY_DEPENDENCIES_FILE] = deps;
    return files;
  }
  const files: Record<string, string> = {
    [USER_FILE]: userModule(code),
    [ENTRY_FILE]: entryModule(mainMethod, isCommonJs(code)),
  };
  if (deps) files[DEPENDENCIES_FILE] = deps;
  return files;
}

/** The code as the user sent it and its dependencies, from a version's files (JavaScript or Python). */
export function codeOfFiles(files: Record<string, unknown>): { code: string; deps: string } {
  const text = (name: string) => (typeof files[name] === "string" ? (files[name] as string) : "");
  if (typeof files[PY_USER_FILE] === "string") return { code: text(PY_USER_FILE), deps: text(PY_DEPENDENCIES_FILE) };
  return { code: codeOf(text(USER_FILE)), deps: text(DEPENDENCIES_FILE) };
}
