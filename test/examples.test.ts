/**
 * The examples in examples/ and the guide in docs/functions.md, run as documented: each example's README is
 * read, its curl commands are replayed against the API in order (create the function, change its config,
 * upload the files it names, invoke it), and every answer the README shows after a command is compared with
 * the real one. A README that drifts from the platform fails here.
 */
import { describe, expect, inject, it } from "vitest";
import guide from "../docs/functions.md?raw";
import failingCode from "../examples/failing/index.js?raw";
import failingReadme from "../examples/failing/README.md?raw";
import fetchHandlerCode from "../examples/fetch-handler/index.js?raw";
import fetchHandlerReadme from "../examples/fetch-handler/README.md?raw";
import helloCode from "../examples/hello/index.js?raw";
import helloReadme from "../examples/hello/README.md?raw";
import pythonHandler from "../examples/python/handler.py?raw";
import pythonReadme from "../examples/python/README.md?raw";
import pythonStats from "../examples/python/stats.py?raw";
import pythonHttpHandler from "../examples/python-http/handler.py?raw";
import pythonHttpReadme from "../examples/python-http/README.md?raw";
import pythonWheelHandler from "../examples/python-wheel/handler.py?raw";
import pythonWheelReadme from "../examples/python-wheel/README.md?raw";
import pythonWheelRequirements from "../examples/python-wheel/requirements.txt?raw";
import secretsCode from "../examples/secrets/index.ts?raw";
import secretsReadme from "../examples/secrets/README.md?raw";
import typescriptIndex from "../examples/typescript/index.ts?raw";
import typescriptPricing from "../examples/typescript/pricing.ts?raw";
import typescriptReadme from "../examples/typescript/README.md?raw";
import { api, expectStatus, newWorkspace } from "./support/api";
import { waitForBuild } from "./support/deploy";

/** The files a README may upload, by the path its commands give (run from the repository root). */
const SOURCES: Record<string, string> = {
  "examples/hello/index.js": helloCode,
  "examples/typescript/index.ts": typescriptIndex,
  "examples/typescript/pricing.ts": typescriptPricing,
  "examples/secrets/index.ts": secretsCode,
  "examples/fetch-handler/index.js": fetchHandlerCode,
  "examples/failing/index.js": failingCode,
  "examples/python/handler.py": pythonHandler,
  "examples/python/stats.py": pythonStats,
  "examples/python-http/handler.py": pythonHttpHandler,
  "examples/python-wheel/handler.py": pythonWheelHandler,
  "examples/python-wheel/requirements.txt": pythonWheelRequirements,
};

/** The binary files a README may upload (`--arg x "$(base64 -w0 path)"`), read from examples/ by the global setup. */
const BINARIES: Record<string, Uint8Array> = Object.fromEntries(
  Object.entries(inject("exampleBinaries")).map(([path, base64]) => [path, Uint8Array.fromBase64(base64)]),
);

interface Command {
  text: string;
  /** The JSON the README shows as this command's output (a `# {...}` line right after it). */
  expected?: unknown;
}

/** The shell commands of a document's ```sh blocks, continuation lines joined, each with its shown output. */
function commands(markdown: string): Command[] {
  const out: Command[] = [];
  for (const [, block] of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = (block as string).split("\n");
    let current = "";
    for (const line of lines) {
      const trimmed = line.trim();
      if (current === "" && trimmed.startsWith("#")) {
        const last = out.at(-1);
        const shown = trimmed.slice(1).trim();
        if (last && last.expected === undefined && /^[{[]/.test(shown)) last.expected = JSON.parse(shown);
        continue;
      }
      current += `${current ? " " : ""}${trimmed.replace(/\\$/, "").trim()}`;
      if (trimmed.endsWith("\\") || trimmed.endsWith("|")) continue;
      if (current) out.push({ text: current });
      current = "";
    }
  }
  return out;
}

/** jq's `{a, b}`: those keys, in that order, null when absent. */
function project(value: Record<string, unknown>, filter: string): Record<string, unknown> {
  const keys = /^\{([\w, ]+)\}$/.exec(filter)?.[1];
  if (!keys) throw new Error(`unsupported jq filter in a README: ${filter}`);
  return Object.fromEntries(keys.split(",").map((k) => [k.trim(), value[k.trim()] ?? null]));
}

const jqFilter = (text: string) => /jq -c '([^']*)'/.exec(text)?.[1];
const singleQuotedBody = (text: string) => {
  const body = /-d '([^']*)'/.exec(text)?.[1];
  return body === undefined ? undefined : JSON.parse(body);
};

interface Run {
  /** How many commands of each kind ran. */
  ran: Record<string, number>;
  functionId: string;
}

/** Replays a README's commands against the API in a new workspace ($WS), checking each output it shows. */
async function runReadme(markdown: string): Promise<Run> {
  const ws = await newWorkspace();
  const ran: Record<string, number> = {};
  const count = (kind: string) => {
    ran[kind] = (ran[kind] ?? 0) + 1;
  };
  let fn = "";
  let version = "";
  const check = (command: Command, body: Record<string, unknown>) => {
    const filter = jqFilter(command.text);
    if (command.expected === undefined) return;
    if (!filter) throw new Error(`a README shows an output for a command without jq -c: ${command.text}`);
    expect(project(body, filter), command.text).toEqual(command.expected);
    count("checked");
  };

  for (const command of commands(markdown)) {
    const { text } = command;
    // The CLI's commands (npx edgefn ...) are replayed by test/e2e/cli-python.test.ts.
    if (text.startsWith("while ") || text.startsWith("export ") || text.startsWith("npx ")) continue;

    if (/^FN=\$\(curl -s -X POST \$EDGEFN\/api\/functions /.test(text)) {
      const raw = /-d "((?:[^"\\]|\\.)*)"/.exec(text)?.[1];
      if (raw === undefined) throw new Error(`cannot read the function's body: ${text}`);
      const body = JSON.parse(raw.replace(/\\"/g, '"').replaceAll("$WS", ws.id));
      fn = expectStatus(await api("POST", "/api/functions", { body }), 201).id;
      count("create");
    } else if (/^VER=\$\(jq -n /.test(text) && text.includes("/api/functions/$FN/versions ")) {
      const vars = Object.fromEntries([...text.matchAll(/--rawfile (\w+) (\S+)/g)].map((m) => [m[1], m[2]]));
      // `--arg wheel "$(base64 -w0 path)"`: a binary file, uploaded as {base64: $wheel}.
      const binaries = Object.fromEntries(
        [...text.matchAll(/--arg (\w+) "\$\(base64 -w0 (\S+)\)"/g)].map((m) => [m[1], m[2]]),
      );
      const mapping = /'\{files: \{(.*)\}\}'/.exec(text)?.[1];
      if (!mapping) throw new Error(`cannot read the upload's files: ${text}`);
      const files: Record<string, string | { base64: string }> = {};
      for (const [, name, binary, variable] of mapping.matchAll(/"([^"]+)": (\{base64: )?\$(\w+)/g)) {
        const path = binary ? binaries[variable as string] : vars[variable as string];
        const source = path === undefined ? undefined : binary ? BINARIES[path] : SOURCES[path];
        if (source === undefined) throw new Error(`the README uploads ${path}, which this test does not know`);
        files[name as string] = typeof source === "string" ? source : { base64: source.toBase64() };
      }
      const queued = expectStatus(await api("POST", `/api/functions/${fn}/versions`, { body: { files } }), 201);
      expect(queued.status).toBe("queued");
      version = queued.id;
      const built = await waitForBuild(fn, version, undefined, 90_000);
      expect(built.status, JSON.stringify(built.error)).toBe("ready");
      count("upload");
    } else if (/^curl -s \$EDGEFN\/api\/functions\/\$FN\/versions\/\$VER /.test(text)) {
      check(command, expectStatus(await api("GET", `/api/functions/${fn}/versions/${version}`), 200));
      count("getVersion");
    } else if (/^curl -s -X PATCH \$EDGEFN\/api\/functions\/\$FN /.test(text)) {
      const body = singleQuotedBody(text);
      check(command, expectStatus(await api("PATCH", `/api/functions/${fn}`, { body }), 200));
      count("patch");
    } else if (/^curl -s \$EDGEFN\/api\/functions\/\$FN /.test(text)) {
      check(command, expectStatus(await api("GET", `/api/functions/${fn}`), 200));
      count("getFunction");
    } else if (/^curl -s -X POST \$EDGEFN\/api\/functions\/\$FN\/invoke /.test(text)) {
      const body = singleQuotedBody(text);
      const res = await api("POST", `/api/functions/${fn}/invoke`, body === undefined ? {} : { body });
      check(command, expectStatus(res, 200));
      count("invoke");
    } else if (/^curl -s (-X \w+ )?"\$EDGEFN\/run\/\$WS\//.test(text)) {
      const [, method = "GET"] = /^curl -s (?:-X (\w+) )?/.exec(text) ?? [];
      const path = (/"\$EDGEFN(\/run\/\$WS\/[^"]*)"/.exec(text)?.[1] ?? "").replace("$WS", ws.id);
      const body = singleQuotedBody(text);
      const res = await api(method, path, body === undefined ? {} : { body });
      check(command, res.body);
      count("run");
    } else {
      throw new Error(`a README command this test cannot replay: ${text}`);
    }
  }
  return { ran, functionId: fn };
}

describe("examples, run as their READMEs say", () => {
  it("hello: handle(data) with and without args", async () => {
    const { ran } = await runReadme(helloReadme);
    expect(ran).toEqual({ create: 1, upload: 1, getVersion: 1, invoke: 2, checked: 3 });
  });

  it("typescript: a TypeScript entry importing a second module", async () => {
    const { ran } = await runReadme(typescriptReadme);
    expect(ran).toEqual({ create: 1, upload: 1, getVersion: 1, invoke: 1, checked: 2 });
  });

  it("secrets: an env var and a secret set through the API, changed between calls", async () => {
    const { ran, functionId } = await runReadme(secretsReadme);
    expect(ran).toEqual({ create: 1, patch: 2, getFunction: 1, upload: 1, getVersion: 1, invoke: 2, checked: 6 });
    // The secret's value never leaves the isolate through the API.
    const shown = expectStatus(await api("GET", `/api/functions/${functionId}`), 200);
    expect(JSON.stringify(shown)).not.toContain("s3cr3t");
  });

  it("fetch-handler: export default { fetch }, a 2xx answer and a 400", async () => {
    const { ran, functionId } = await runReadme(fetchHandlerReadme);
    expect(ran).toEqual({ create: 1, upload: 1, getVersion: 1, invoke: 2, checked: 3 });
    // What the README says of the failed call's errorDetail.
    const res = expectStatus(await api("POST", `/api/functions/${functionId}/invoke`, { body: { args: {} } }), 200);
    expect(res.errorDetail).toMatchObject({ name: "ResultError", code: "http_400" });
  });

  it("failing: a custom error becomes ok:false with 'Name: message'", async () => {
    const { ran, functionId } = await runReadme(failingReadme);
    expect(ran).toEqual({ create: 1, upload: 1, getVersion: 1, invoke: 2, checked: 3 });
    // What the README says of errorDetail: the name and message again, and a stack of index.js frames only.
    const res = expectStatus(
      await api("POST", `/api/functions/${functionId}/invoke`, { body: { args: { amount: 250 } } }),
      200,
    );
    const message = "cannot withdraw 250: the balance is 100";
    expect(res.errorDetail).toMatchObject({ name: "InsufficientFundsError", message });
    const frames = (res.errorDetail.stack as string).split("\n").slice(1);
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames) expect(frame).toMatch(/\(?index\.js:\d+:\d+\)?$/);
  });
});

describe("the Python examples", () => {
  it("python: handle(data, function_call_info) with a second module, and a traceback", async () => {
    const { ran, functionId } = await runReadme(pythonReadme);
    expect(ran).toEqual({ create: 1, upload: 1, getVersion: 1, invoke: 2, checked: 3 });
    // What the README says of errorDetail.stack: the traceback of handler.py's own frames.
    const res = expectStatus(await api("POST", `/api/functions/${functionId}/invoke`, { body: { args: {} } }), 200);
    expect(res.errorDetail.name).toBe("ValueError");
    expect(res.errorDetail.stack).toMatch(/File "\/function\/handler\.py", line \d+, in handle/);
    expect(res.errorDetail.stack).not.toMatch(/pyodide|_edgefn/);
  }, 120_000);

  it("python-http: on_fetch serves /run, a GET with a query, a POST with JSON, a 400 of its own", async () => {
    const { ran, functionId } = await runReadme(pythonHttpReadme);
    expect(ran).toEqual({ create: 1, upload: 1, getVersion: 1, run: 3, checked: 4 });
    // The 400 is the function's own answer, and each request is a call with trigger http.
    const calls = expectStatus(await api("GET", `/api/functions/${functionId}/calls`), 200);
    expect(calls.data.map((c: { trigger: string }) => c.trigger)).toEqual(["http", "http", "http"]);
    expect(calls.data.map((c: { http: { status: number } }) => c.http.status).sort()).toEqual([200, 200, 400]);
  }, 120_000);

  it("python-wheel: a requirement satisfied by the wheel the upload carries, imported by the handler", async () => {
    const { ran, functionId } = await runReadme(pythonWheelReadme);
    expect(ran).toEqual({ create: 1, upload: 1 });
    // What the README shows the CLI's invoke answering (the CLI itself: test/e2e/cli-python.test.ts).
    const shown = /npx edgefn invoke [^\n]*\n# (\{.*\})/.exec(pythonWheelReadme)?.[1];
    expect(shown).toBeDefined();
    const args = JSON.parse(/--data '([^']*)'/.exec(pythonWheelReadme)?.[1] as string);
    const res = expectStatus(await api("POST", `/api/functions/${functionId}/invoke`, { body: { args } }), 200);
    expect(res.result).toEqual(JSON.parse(shown as string));
  }, 120_000);
});

describe("docs/functions.md", () => {
  it("shows the limits GET /api/limits answers", async () => {
    const block = /curl -s \$EDGEFN\/api\/limits [^\n]*\n```\n\n```json\n([\s\S]*?)\n```/.exec(guide)?.[1];
    expect(block, "the limits block of docs/functions.md").toBeDefined();
    const limits = expectStatus(await api("GET", "/api/limits"), 200);
    expect(JSON.parse(block as string)).toEqual(limits);
  });

  it("has a first-function walk-through that runs as written", async () => {
    const end = guide.indexOf("<!-- end of walk-through -->");
    expect(end).toBeGreaterThan(0);
    const { ran } = await runReadme(guide.slice(0, end));
    expect(ran).toEqual({ create: 1, upload: 1, getVersion: 1, invoke: 1, checked: 2 });
  });
});
