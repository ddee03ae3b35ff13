import type { App } from "../../app";

/** The gcore compatibility surface (see docs/compat.md). */
export function registerGcoreRoutes(_app: App): void {}
