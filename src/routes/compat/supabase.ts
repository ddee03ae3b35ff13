import type { App } from "../../app";

/** The supabase compatibility surface (see docs/compat.md). */
export function registerSupabaseRoutes(_app: App): void {}
