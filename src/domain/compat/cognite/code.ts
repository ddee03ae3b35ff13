/**
 * A Cognite function's code from its file: the zip unpacked as Cognite reads it, with the zip's root as the code's
 * root (functionPath and the handler's imports are relative to it), and the entry file functionPath names.
 */
import { archivePath, unpackArchive } from "../../../lib/archive";
import { ApiError } from "../../../lib/errors";
import { LIMITS } from "../../../lib/limits";
import { zipEntries } from "../../../lib/zip";
import { cogniteError } from "./project";

/** Cognite's default functionPath. */
export const HANDLER_FILE = "handler.py";

type Files = Awaited<ReturnType<typeof unpackArchive>>;

/** The zip's file paths as unpacking reads them, from its directory without inflating anything (none: not a zip). */
function zipNames(bytes: Uint8Array): string[] {
  try {
    return zipEntries(bytes, LIMITS.archive.entries).flatMap((e) => {
      const path = e.kind === "file" ? archivePath(e.name) : null;
      return path ? [path] : [];
    });
  } catch {
    return [];
  }
}

/**
 * The folder unpacking took off the paths (archives often hold one top-level folder, which uploads leave out), or
 * null. Cognite keeps it: `myfunction/handler.py` in a zip that holds only `myfunction/` is that path.
 */
function removedFolder(bytes: Uint8Array, files: Files): string | null {
  const names = new Set(zipNames(bytes));
  const path = Object.keys(files)[0];
  if (names.size === 0 || path === undefined || names.has(path)) return null;
  for (const name of names) {
    const folder = name.slice(0, -(path.length + 1));
    if (name.endsWith(`/${path}`) && folder.length > 0 && !folder.includes("/")) return folder;
  }
  return null;
}

/** The files of file `fileId`'s zip, rooted at the zip's root, and its entry file (functionPath, POSIX, relative). */
export async function codeOfZip(
  fileId: number,
  bytes: Uint8Array,
  functionPath = HANDLER_FILE,
): Promise<{ files: Files; entrypoint: string }> {
  let unpacked: Files;
  try {
    unpacked = await unpackArchive(bytes);
  } catch (err) {
    // "not a zip", "holds no files", "larger than the code limit": said of the file.
    if (err instanceof ApiError) throw new ApiError(err.code, `fileId ${fileId}: ${err.message}`);
    throw err;
  }
  const folder = removedFolder(bytes, unpacked);
  const files: Files = folder
    ? Object.fromEntries(Object.entries(unpacked).map(([path, file]) => [`${folder}/${path}`, file]))
    : unpacked;
  const entrypoint = functionPath.replace(/^(\.\/)+/, "");
  if (!Object.hasOwn(files, entrypoint)) {
    const some = Object.keys(files).slice(0, 10).join(", ");
    throw cogniteError(
      400,
      `functionPath '${functionPath.slice(0, 200)}' is not in the zip of file ${fileId} (it holds ${some}${Object.keys(files).length > 10 ? ", ..." : ""})`,
    );
  }
  return { files, entrypoint };
}
