import type { App } from "../../app";

/** The cognite compatibility surface (see docs/compat.md). */
export function registerCogniteRoutes(_app: App): void {}
