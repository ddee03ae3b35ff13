export interface WorkerdLog {
  timestamp: number;
  level: string;
  message: string;
}

/** workerd's standard output on a FIFO read in batches (see workerd-stdout.mjs); null where that cannot be. */
export function batchedWorkerdStdout(
  onLog: (log: WorkerdLog) => void,
  options: { scriptDir: string },
): { drain(): void; close(): void } | null;
