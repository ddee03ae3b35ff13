export * from "./api-keys";
export * from "./calls";
export * from "./cognite";
export * from "./functions";
export * from "./schedules";
export * from "./schemas";
export * from "./versions";
export * from "./workspaces";
