export interface LocalPlatform {
  url: string;
  adminKey: string;
  persistTo: string;
  vars: Record<string, string>;
  output(): string;
  stop(options?: { keep?: boolean }): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<LocalPlatform>;
  cron(time?: number): Promise<number>;
}

export function freePort(): Promise<number>;
export function startPlatform(options?: {
  vars?: Record<string, string>;
  persistTo?: string;
  adminKey?: string;
  secretsKey?: string;
}): Promise<LocalPlatform>;
