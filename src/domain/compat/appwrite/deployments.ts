/** Appwrite deployments: an archive (tar.gz, zip or tar) uploaded whole or in chunks becomes a version. */
import { unpackArchive } from "../../../lib/archive";
import { fileBytes, type UploadFile } from "../../../lib/files";
import { writeTar } from "../../../lib/tar";
import type { BuiltBundle } from "../../../runtime/bundle";
import { isPythonBundle, type PythonBundle } from "../../../runtime/python/bundle";
import type { FunctionRow, VersionRow } from "../../../storage/schema";
import type { ServiceContext } from "../../context";
import { createVersion, getVersion, versionSource } from "../../versions";
import { appwriteFailure } from "./failures";
import { META } from "./settings";
import type { Upload } from "./uploads";

/**
 * Appwrite's entrypoint is relative to the archive's root; edgefn strips a folder every file shares, so
 * `src/main.js` of an archive holding only `src/` is `main.js` here.
 */
function entrypointIn(files: Record<string, UploadFile>, entrypoint: string | undefined): string | undefined {
  if (!entrypoint) return undefined;
  let path = entrypoint.replace(/^\.\//, "");
  for (;;) {
    if (Object.hasOwn(files, path)) return path;
    const slash = path.indexOf("/");
    if (slash < 0) return entrypoint;
    path = path.slice(slash + 1);
  }
}

/**
 * The version an upload makes once every byte is there (a set another request completed: that request's version).
 * `entrypoint` defaults to the function's (`aw.entrypoint` in its metadata).
 */
export async function deploy(
  ctx: ServiceContext,
  fn: FunctionRow,
  upload: Exclude<Upload, { state: "partial" }>,
  options: { entrypoint?: string; activate: boolean },
): Promise<VersionRow> {
  if (upload.state === "taken") return (await getVersion(ctx, fn.id, upload.versionId)).version;
  let version: VersionRow;
  try {
    const files = await unpackArchive(upload.bytes);
    version = await createVersion(ctx, fn.id, {
      files,
      entrypoint: entrypointIn(files, options.entrypoint || fn.metadata?.[META.entrypoint]),
      activate: options.activate,
    });
  } catch (err) {
    await upload.done(null);
    throw err;
  }
  await upload.done(version.id);
  return version;
}

/** A version's uploaded sources as a tar.gz. */
export async function sourceArchive(ctx: ServiceContext, fn: FunctionRow, versionId: string): Promise<Uint8Array> {
  const source = await versionSource(ctx, fn.id, versionId);
  return tarGz(Object.entries(source.files).map(([path, file]) => ({ path, data: fileBytes(file) })));
}

async function tarGz(files: { path: string; data: Uint8Array }[]): Promise<Uint8Array> {
  const gzipped = new Blob([writeTar(files)]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(gzipped).arrayBuffer());
}

/**
 * A version's build output as a tar.gz: the modules of its built bundle (the platform's adapter among them, when
 * it has one), as the isolate loads them. 404 `deployment_not_found` while it has none (not built, or failed).
 */
export async function outputArchive(ctx: ServiceContext, fn: FunctionRow, versionId: string): Promise<Uint8Array> {
  const { version } = await getVersion(ctx, fn.id, versionId);
  const object = version.bundleKey ? await ctx.env.CODE.get(version.bundleKey) : null;
  if (!object) {
    throw appwriteFailure(
      "not_found",
      "deployment_not_found",
      `Deployment ${versionId} has no build output: it is ${version.status}`,
    );
  }
  const bundle = await object.json<BuiltBundle | PythonBundle>();
  if (isPythonBundle(bundle)) {
    // A Python build: its files and the wheels it vendors.
    return tarGz([
      ...Object.entries(bundle.files).map(([path, file]) => ({ path, data: fileBytes(file) })),
      ...bundle.wheels.map((w) => ({ path: w.path, data: fileBytes({ base64: w.base64 }) })),
    ]);
  }
  return tarGz(Object.entries(bundle.modules).map(([path, module]) => ({ path, data: moduleBytes(module) })));
}

/** A built module's bytes: its code, its text, its JSON value, or its binary data. */
function moduleBytes(module: BuiltBundle["modules"][string]): Uint8Array {
  if (typeof module === "string") return fileBytes(module);
  if ("js" in module) return fileBytes(module.js);
  if ("cjs" in module) return fileBytes(module.cjs);
  if ("text" in module) return fileBytes(module.text);
  if ("json" in module) return fileBytes(JSON.stringify(module.json));
  if ("data" in module) return fileBytes(module.data);
  return fileBytes(module.wasm);
}

/**
 * A new build of a version's sources (Appwrite's duplicate deployment): a new version of the same upload, with the
 * function's current entrypoint if it names one that is in it.
 */
export async function duplicateDeployment(ctx: ServiceContext, fn: FunctionRow, versionId: string) {
  const { version } = await getVersion(ctx, fn.id, versionId);
  const source = await versionSource(ctx, fn.id, versionId);
  const wanted = entrypointIn(source.files, fn.metadata?.[META.entrypoint]);
  const entrypoint = wanted && Object.hasOwn(source.files, wanted) ? wanted : source.entrypoint;
  return createVersion(ctx, fn.id, { files: source.files, entrypoint, activate: version.activate });
}
