export interface LocalPlatform {
  url: string;
  /** The platform's process (workerd and the rest of the runtime are its descendants). */
  pid: number;
  adminKey: string;
  persistTo: string;
  vars: Record<string, string>;
  output(): string;
  stop(options?: { keep?: boolean }): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<LocalPlatform>;
  cron(time?: number): Promise<number>;
  /** Freezes workerd (SIGSTOP), as native code that never yields would: for the watchdog's tests. */
  stall(): number[];
}

export function freePort(): Promise<number>;
export function startPlatform(options?: {
  vars?: Record<string, string>;
  persistTo?: string;
  adminKey?: string;
  secretsKey?: string;
  /** Another entry for the Worker (the benchmarks' worker). */
  main?: string;
}): Promise<LocalPlatform>;
