// The one part of `node:module` the build uses (the host runs with nodejs_compat, as the isolates do).
declare module "node:module" {
  export function isBuiltin(name: string): boolean;
}
