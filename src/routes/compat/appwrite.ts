import type { App } from "../../app";

/** The appwrite compatibility surface (see docs/compat.md). */
export function registerAppwriteRoutes(_app: App): void {}
