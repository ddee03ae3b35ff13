#!/usr/bin/env node
/**
 * edgefn: the command line for an edgefn platform. Every request goes through the typed client (edgefn/client).
 * This file builds the program, its global options and the error and exit-code handling; each command group is
 * in cli/commands/, the helpers they share in cli/context.js. See docs/cli.md.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { ApiError } from "../client/index.js";
import * as admin from "./commands/admin.js";
import * as deploy from "./commands/deploy.js";
import * as functions from "./commands/functions.js";
import * as invoke from "./commands/invoke.js";
import * as keys from "./commands/keys.js";
import * as login from "./commands/login.js";
import * as logs from "./commands/logs.js";
import * as schedules from "./commands/schedules.js";
import * as versions from "./commands/versions.js";
import * as workspaces from "./commands/workspaces.js";
import { createContext } from "./context.js";
import { CliError, EXIT, err, info } from "./ui.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

const program = new Command("edgefn")
  .description("Deploy, invoke and inspect functions on an edgefn platform.")
  .version(pkg.version, "-v, --version")
  .option("--url <url>", "the platform's URL (env EDGEFN_URL, else the one `login` saved)")
  .option("--key <key>", "the API key (env EDGEFN_KEY, else the one `login` saved)")
  .option("-w, --workspace <workspace>", "workspace name or id (env EDGEFN_WORKSPACE, else the one `login` saved)")
  .option("--json", "print JSON (for scripts)")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

const context = createContext(program);
const { globals, settings } = context;

// In the order `--help` lists them.
for (const group of [login, workspaces, functions, deploy, invoke, logs, versions, schedules, keys, admin]) {
  group.register(program, context);
}

/** Applies exitOverride to every subcommand too, so usage errors reach the handler below. */
for (const command of program.commands) {
  command.exitOverride();
  for (const sub of command.commands) sub.exitOverride();
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // help and --version end with exit code 0; usage errors were already printed by commander
    process.exitCode = e.exitCode === 0 ? 0 : EXIT.usage;
  } else if (e instanceof ApiError) {
    const where = e.requestId ? `, request ${e.requestId}` : "";
    if (globals().json) {
      process.stderr.write(
        `${JSON.stringify({ error: { code: e.code, message: e.message, status: e.status, requestId: e.requestId } })}\n`,
      );
    } else {
      info(`${err.red("error:")} ${e.message} ${err.dim(`(${e.code}${e.status ? ` ${e.status}` : ""}${where})`)}`);
    }
    if (e.code === "network_error" && !globals().json) info(err.dim(`is ${settings().url} the right URL?`));
    process.exitCode = EXIT.error;
  } else if (e instanceof CliError) {
    info(`${err.red("error:")} ${e.message}`);
    process.exitCode = e.exitCode;
  } else {
    info(`${err.red("error:")} ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = EXIT.error;
  }
}
