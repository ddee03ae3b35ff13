export * from "./api-keys";
export * from "./functions";
export * from "./workspaces";
