import { type Node, parse, tokTypes } from "acorn";
import { ancestor } from "acorn-walk";
import { RESERVED_PREFIX } from "./guard";

const GUARD = `${RESERVED_PREFIX}_guard`;
const IMPORT = `${RESERVED_PREFIX}_import`;

export interface ModuleInfo {
  /** The instrumented code, with import specifiers rewritten. */
  code: string;
  /** Every static and literal dynamic import specifier, in order. */
  imports: string[];
}

export interface InstrumentOptions {
  /** The guard module, as the instrumented module imports it (ES modules only). */
  guardSpecifier: string;
  moduleName: string;
  /**
   * "module": an ES module. "script": a CommonJS file's code, which the caller wraps in a factory that receives
   * the guard (no import is added) and whose `require("x")` calls are reported to `require`.
   */
  sourceType?: "module" | "script";
  /** The specifier an import (static, or `import()` of a literal) becomes; `line` is where it is. */
  resolve: (specifier: string, line: number) => string;
  /** A `require()` of a literal (scripts only); `inTry` when it sits in a try block (an optional dependency). */
  require?: (specifier: string, line: number, inTry: boolean) => void;
}

/** Code that declares or names an identifier the platform reserves (it could shadow the guard). */
export class ReservedIdentifierError extends Error {
  constructor(
    readonly identifier: string,
    readonly loc: { line: number; column: number },
  ) {
    super(
      `'${identifier.slice(0, 80)}' is reserved by the platform: identifiers may not start with ${RESERVED_PREFIX}`,
    );
    this.name = "SyntaxError";
  }
}

type Edit = { at: number; end: number; text: string; seq: number; close: boolean };

/**
 * Parses an ES module, inserts a guard call at the top of every loop body and function body, rewrites import
 * specifiers through `resolve`, and routes every `import()` whose specifier is computed through the platform's
 * run-time check. Refuses identifiers with the platform's reserved prefix, so nothing can shadow the guard.
 * Throws a SyntaxError with a line and column on bad code. Linear in the size of the code.
 */
export function instrumentModule(code: string, options: InstrumentOptions): ModuleInfo {
  const script = options.sourceType === "script";
  // A script's `#!` line would sit inside the factory: it becomes a comment of the same length.
  if (script && code.startsWith("#!")) code = `//${code.slice(2)}`;
  const ast = parse(code, {
    ecmaVersion: "latest",
    sourceType: script ? "script" : "module",
    allowReturnOutsideFunction: script,
    allowHashBang: !script,
    locations: true,
    onToken: (token) => {
      const value = String((token as { value?: unknown }).value);
      if (token.type === tokTypes.name && value.startsWith(RESERVED_PREFIX)) {
        throw new ReservedIdentifierError(value, token.loc?.start ?? { line: 0, column: 0 });
      }
    },
  });
  const edits: Edit[] = [];
  const imports: string[] = [];
  const edit = (at: number, text: string, end = at, close = false) =>
    edits.push({ at, end, text, seq: edits.length, close });

  type Span = { start: number; end: number; loc?: { start: { line: number } } | null };
  type Body = Node & { type: string; start: number; end: number; body?: unknown };
  /** Where a guard call goes in a function body: after its directives ("use strict" must stay first). */
  const afterDirectives = (body: Body) => {
    let at = body.start + 1;
    for (const statement of (Array.isArray(body.body) ? body.body : []) as (Span & { directive?: string })[]) {
      if (typeof statement.directive !== "string") break;
      at = statement.end;
    }
    return at;
  };
  const guardBlock = (body: Body) => {
    if (body.type === "BlockStatement") edit(body.start + 1, `${GUARD}();`);
    else {
      edit(body.start, `{${GUARD}();`);
      edit(body.end, "}", body.end, true);
    }
  };
  const source = (node: {
    type: string;
    source?: (Span & { type: string; value?: unknown }) | null;
    attributes?: Span[];
    options?: Span | null;
  }) => {
    const s = node.source;
    if (!s) return;
    if (s.type === "Literal" && typeof s.value === "string") {
      imports.push(s.value);
      edit(s.start, JSON.stringify(options.resolve(s.value, s.loc?.start.line ?? 0)), s.end);
    } else if (node.type === "ImportExpression") {
      // import(expr): the specifier is checked when the call runs, against the upload's own modules.
      edit(s.start, `${IMPORT}(`);
      edit(s.end, `, ${JSON.stringify(options.moduleName)})`, s.end, true);
    } else return;
    // Import attributes (`with { type: "json" }`) are dropped: the loader knows a module's type by itself
    // and refuses attributes it does not recognise.
    const last = node.attributes?.at(-1);
    if (last) edit(s.end, "", code.indexOf("}", last.end) + 1);
    if (node.options) edit(s.end, "", node.options.end);
  };

  type WithBody = { body: Body };
  const loop = (node: unknown) => guardBlock((node as WithBody).body);
  const fn = (raw: unknown) => {
    const node = raw as WithBody;
    if (node.body.type === "BlockStatement") edit(afterDirectives(node.body), `${GUARD}();`);
    else {
      // Expression-bodied arrow: `x => expr` becomes `x => (guard(), expr)`.
      edit(node.body.start, `(${GUARD}(), `);
      edit(node.body.end, ")", node.body.end, true);
    }
  };
  type Call = { callee: { type: string; name?: string }; arguments: (Span & { type: string; value?: unknown })[] };
  const call = (raw: unknown, _: unknown, ancestors: Node[]) => {
    const node = raw as Call & Span;
    const arg = node.arguments[0];
    if (!options.require || node.callee.type !== "Identifier" || node.callee.name !== "require") return;
    if (node.arguments.length !== 1 || arg?.type !== "Literal" || typeof arg.value !== "string") return;
    const inTry = ancestors.some(
      (a, i) => a.type === "TryStatement" && (a as unknown as { block: Node }).block === ancestors[i + 1],
    );
    options.require(arg.value, node.loc?.start.line ?? 0, inTry);
  };
  ancestor(ast, {
    ForStatement: loop,
    ForInStatement: loop,
    ForOfStatement: loop,
    WhileStatement: loop,
    DoWhileStatement: loop,
    FunctionDeclaration: fn,
    FunctionExpression: fn,
    ArrowFunctionExpression: fn,
    ImportDeclaration: source,
    ExportNamedDeclaration: source,
    ExportAllDeclaration: source,
    ImportExpression: source as never,
    ...(script ? { CallExpression: call } : {}),
  });

  // Applied in one pass. The walk visits inner nodes first, so at one position closing insertions keep that order
  // (an inner `)` before an outer `}`), opening ones are reversed (an outer `{guard();` before an inner one's),
  // closing ones come before opening ones, and a replacement comes last.
  const rank = (e: Edit) => (e.end > e.at ? 2 : e.close ? 0 : 1);
  edits.sort((a, b) => a.at - b.at || rank(a) - rank(b) || (a.close ? a.seq - b.seq : b.seq - a.seq));
  const parts: string[] = [];
  let cursor = 0;
  for (const e of edits) {
    if (e.at > cursor) parts.push(code.slice(cursor, e.at));
    parts.push(e.text);
    cursor = Math.max(cursor, e.end);
  }
  parts.push(code.slice(cursor));
  if (script) return { code: parts.join(""), imports };
  // Imports are hoisted, so appending this one keeps the user's line numbers in stack traces.
  parts.push(
    `\nimport { guard as ${GUARD}, importChecked as ${IMPORT} } from ${JSON.stringify(options.guardSpecifier)};\n`,
  );
  return { code: parts.join(""), imports };
}
