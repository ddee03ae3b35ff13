/**
 * Python in `npm run bench`: a Python no-op among edgefn's HTTP cases (its warm invoke against JavaScript's), and
 * the one-off figures of a Python version: upload to ready (the build boots Python, imports the module and makes
 * its memory snapshot) against a 1 KB JavaScript upload, and its first call with and without the snapshot against
 * its warm calls.
 */
import { coldRow, median, round } from "./load.mjs";

/** The Python no-op: the same answer as the JavaScript one. */
export const PY_NOOP = "def handle(data):\n    return data\n";

/** A handler importing what a typical one does (parsing, dates, regular expressions, dataclasses). */
const pyModule = (n) => `# revision ${n}
import json, re, datetime, decimal, dataclasses, collections, logging

log = logging.getLogger("bench")
WORD = re.compile(r"\\w+")


@dataclasses.dataclass
class Summary:
    words: int
    at: str


def handle(data):
    text = json.dumps(data)
    counts = collections.Counter(WORD.findall(text))
    return dataclasses.asdict(Summary(sum(counts.values()), datetime.date(2026, 1, ${(n % 28) + 1}).isoformat()))
`;

async function timedInvoke(e, functionId) {
  const t = performance.now();
  const out = await e.api("POST", `/api/functions/${functionId}/invoke`, { args: {} }, e.fx.invokerKey);
  if (!out.ok) throw new Error(`invoke failed: ${JSON.stringify(out.errorDetail)}`);
  return performance.now() - t;
}

async function warmMedian(e, functionId) {
  const w = [];
  for (let i = 0; i < 10; i++) w.push(await timedInvoke(e, functionId));
  return median(w);
}

/** Drops a function's memory snapshots in R2 (a bench route), so its next new isolate boots Python plainly. */
async function dropSnapshots(e, functionId) {
  const res = await fetch(`${e.platform.url}/__bench/snapshots/${functionId}/drop`, {
    method: "POST",
    headers: { "x-edgefn-bench": e.benchToken },
  });
  if (!res.ok) throw new Error(`dropping snapshots: ${res.status} ${await res.text()}`);
}

/**
 * Upload to ready, the first call after a new Python version is deployed (the platform boots its isolate as the
 * build ends), and the first call of a new isolate (a new config revision, without the warm-up an API change
 * starts) from its snapshot and without one.
 * Rows are given to `keepCold` and `keepUpload` (the shapes of the JavaScript rows, so the report shows them alike).
 */
export async function pythonFigures(e, samples, log, { keepCold, keepUpload, uploadVersion, newIsolate }) {
  const py = await e.api("POST", "/api/functions", { workspaceId: e.fx.workspaceId, name: "py-cold" });
  const js = await e.api("POST", "/api/functions", { workspaceId: e.fx.workspaceId, name: "py-vs-js-upload" });
  const upload = { py: [], js: [] };
  const deployed = { first: [], warm: [] };
  const snap = { first: [], warm: [] };
  const plain = { first: [], warm: [] };
  const reconfigure = (n, kind) => newIsolate(e, py.id, `${n}-${kind}`);
  for (let n = 1; n <= samples; n++) {
    upload.js.push(
      (await uploadVersion(e.api, js.id, { "index.js": `// ${n}\nexport const handle = (d) => d;\n` })).ms,
    );
    upload.py.push((await uploadVersion(e.api, py.id, { "handler.py": pyModule(n) })).ms);
    deployed.first.push(await timedInvoke(e, py.id));
    deployed.warm.push(await warmMedian(e, py.id));
    await reconfigure(n, "snapshot");
    snap.first.push(await timedInvoke(e, py.id));
    snap.warm.push(await warmMedian(e, py.id));
    await dropSnapshots(e, py.id);
    await reconfigure(n, "plain");
    plain.first.push(await timedInvoke(e, py.id));
    plain.warm.push(await warmMedian(e, py.id));
  }
  for (const [name, m] of [
    ["cold start, Python, first call after its deploy", deployed],
    ["cold start, Python from its memory snapshot", snap],
    ["cold start, Python without a snapshot", plain],
  ]) {
    const row = coldRow(name, m, samples);
    keepCold(row);
    log(`${row.name}: first call ${row.firstCallMs} ms, warm ${row.warmCallMs} ms (+${row.overWarmMs} ms)`);
  }
  const row = {
    name: "upload-to-ready, Python handler (build and memory snapshot)",
    ms: round(median(upload.py)),
    baselineMs: round(median(upload.js)),
    vs: "upload-to-ready, JavaScript no-op",
    ratio: round(median(upload.py.map((p, i) => p / upload.js[i]))),
    samples,
  };
  keepUpload(row);
  log(`${row.name}: ${row.ms} ms (JavaScript: ${row.baselineMs} ms, ${row.ratio}x)`);
}
