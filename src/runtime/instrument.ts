import { type Node, parse } from "acorn";
import { simple } from "acorn-walk";

const GUARD = "__edgefn_guard";

export interface ModuleInfo {
  /** The instrumented code, with import specifiers rewritten. */
  code: string;
  /** Every static and literal dynamic import specifier, in order. */
  imports: string[];
}

type Edit = { at: number; end?: number; text: string };

/**
 * Parses an ES module, inserts a guard call at the top of every loop body and function body, and rewrites
 * import specifiers through `resolve`. Throws a SyntaxError with a line and column on bad code.
 */
export function instrumentModule(
  code: string,
  guardSpecifier: string,
  resolve: (specifier: string) => string,
): ModuleInfo {
  const ast = parse(code, { ecmaVersion: "latest", sourceType: "module", locations: true });
  const edits: Edit[] = [];
  const imports: string[] = [];

  const guardBlock = (body: Node & { type: string; start: number; end: number }) => {
    if (body.type === "BlockStatement") edits.push({ at: body.start + 1, text: `${GUARD}();` });
    else {
      edits.push({ at: body.start, text: `{${GUARD}();` });
      edits.push({ at: body.end, text: "}" });
    }
  };
  type Span = { start: number; end: number };
  const source = (node: {
    source?: (Span & { type: string; value?: unknown }) | null;
    attributes?: Span[];
    options?: Span | null;
  }) => {
    const s = node.source;
    if (s?.type !== "Literal" || typeof s.value !== "string") return;
    imports.push(s.value);
    edits.push({ at: s.start, end: s.end, text: JSON.stringify(resolve(s.value)) });
    // Import attributes (`with { type: "json" }`) are dropped: the loader knows a module's type by itself
    // and refuses attributes it does not recognise.
    const last = node.attributes?.at(-1);
    if (last) edits.push({ at: s.end, end: code.indexOf("}", last.end) + 1, text: "" });
    if (node.options) edits.push({ at: s.end, end: node.options.end, text: "" });
  };

  type WithBody = { body: Node & { type: string; start: number; end: number } };
  const loop = (node: unknown) => guardBlock((node as WithBody).body);
  const fn = (raw: unknown) => {
    const node = raw as WithBody;
    if (node.body.type === "BlockStatement") edits.push({ at: node.body.start + 1, text: `${GUARD}();` });
    else {
      // Expression-bodied arrow: `x => expr` becomes `x => (guard(), expr)`.
      edits.push({ at: node.body.start, text: `(${GUARD}(), ` });
      edits.push({ at: node.body.end, text: ")" });
    }
  };
  simple(ast, {
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
  });

  edits.sort((a, b) => b.at - a.at || (b.end ?? b.at) - (a.end ?? a.at));
  let out = code;
  for (const e of edits) out = out.slice(0, e.at) + e.text + out.slice(e.end ?? e.at);
  // Imports are hoisted, so appending this one keeps the user's line numbers in stack traces.
  return { code: `${out}\nimport { guard as ${GUARD} } from ${JSON.stringify(guardSpecifier)};\n`, imports };
}
