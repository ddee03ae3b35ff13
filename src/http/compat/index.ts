import type { App } from "../router";
import { registerAppwriteRoutes } from "./appwrite/routes";
import { registerCogniteRoutes } from "./cognite/routes";
import { registerGcoreRoutes } from "./gcore/routes";
import { registerSupabaseRoutes } from "./supabase/routes";

/**
 * Compatibility surfaces: the APIs of other functions platforms, as thin adapters over the same services, so their
 * clients work unchanged. Each speaks its platform's auth headers, time formats and error shape.
 */
export function registerCompatRoutes(app: App): void {
  registerAppwriteRoutes(app);
  registerCogniteRoutes(app);
  registerGcoreRoutes(app);
  registerSupabaseRoutes(app);
}
