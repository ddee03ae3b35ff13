/**
 * The benchmarks' bare Worker: `node bare-worker.mjs <port> <script>` serves one module Worker the way the
 * local runtime serves edgefn (scripts/lib/runtime.mjs: Miniflare, its fetch handler on the port directly),
 * until a signal or its parent going away stops it.
 */
import { resolve } from "node:path";
import { startBareRuntime, workerdPids } from "../runtime.mjs";

const [port, script] = process.argv.slice(2);
const killWorkerd = () => {
  for (const pid of workerdPids()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
};
process.on("exit", killWorkerd);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => process.exit(0));

try {
  const runtime = await startBareRuntime({ port: Number(port), scriptPath: resolve(script) });
  console.log(`bare Worker at ${runtime.url}`);
} catch (err) {
  console.error(err?.stack ?? err);
  process.exit(1);
}
