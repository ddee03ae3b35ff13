export * from "./api-keys";
export * from "./functions";
export * from "./schemas";
export * from "./versions";
export * from "./workspaces";
export * from "./calls";
