/** A child process as the black-box tests run one: its exit code and its whole output. */
import { spawn } from "node:child_process";

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node script ...args` to its end, with `input` on stdin (none by default). */
export function runNode(
  script: string,
  args: string[],
  o: { cwd: string; env: Record<string, string | undefined>; input?: string },
): Promise<Run> {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: o.cwd,
      env: o.env,
      stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    if (o.input !== undefined) child.stdin?.end(o.input);
  });
}
