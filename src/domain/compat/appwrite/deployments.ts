/** Appwrite deployments: an archive (tar.gz, zip or tar) uploaded whole or in chunks becomes a version. */
import { unpackArchive } from "../../../lib/archive";
import { fileBytes, type UploadFile } from "../../../lib/files";
import { writeTar } from "../../../lib/tar";
import type { FunctionRow, VersionRow } from "../../../storage/schema";
import type { ServiceContext } from "../../context";
import { createVersion, getVersion, versionSource } from "../../versions";
import { META } from "./functions";
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
  const tar = writeTar(Object.entries(source.files).map(([path, file]) => ({ path, data: fileBytes(file) })));
  const gzipped = new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(gzipped).arrayBuffer());
}
