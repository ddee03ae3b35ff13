/**
 * The compatibility settings of every function isolate: the host Worker's own, as wrangler.toml sets them (its
 * `compatibility_date` and `compatibility_flags`). Defined here once for the code; `npm run check:types` (CI) fails
 * when wrangler.toml says otherwise.
 */
export const ISOLATE_COMPAT = { compatibilityDate: "2026-11-01", compatibilityFlags: ["nodejs_compat"] };
