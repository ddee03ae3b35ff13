import { unzipSync } from "fflate";
import { parseTar } from "nanotar";
import { ApiError, badRequest } from "./errors";
import { fileFromBytes, type UploadFile } from "./files";
import { LIMITS } from "./limits";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function tooLarge(): ApiError {
  return new ApiError(
    "payload_too_large",
    `The code is larger than ${LIMITS.codeBytes} bytes uncompressed; upload less`,
  );
}

export type ArchiveFormat = "zip" | "tar" | "tar.gz";

/** Tells an archive's format from its first bytes. */
export function sniffArchive(bytes: Uint8Array): ArchiveFormat | null {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return "zip";
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return "tar.gz";
  if (bytes.length > 262 && decoder.decode(bytes.subarray(257, 262)) === "ustar") return "tar";
  return null;
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > LIMITS.codeBytes + 1024 * 1024) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw badRequest("The archive is not valid gzip");
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Unpacks a zip, tar or tar.gz upload into files by path: text when valid UTF-8 without NUL bytes, else binary
 * (base64). Directories, links and files outside the code (dotfiles, node_modules) are skipped; a shared top-level
 * folder is removed.
 */
export async function unpackArchive(bytes: Uint8Array): Promise<Record<string, UploadFile>> {
  const format = sniffArchive(bytes);
  if (!format) throw badRequest("The body is not a zip, tar or tar.gz archive");
  const raw: Record<string, Uint8Array> = {};
  let total = 0;
  const keep = (path: string) => !path.endsWith("/") && !/(^|\/)(\.|node_modules\/)/.test(path);

  if (format === "zip") {
    try {
      const files = unzipSync(bytes, {
        filter: (f) => {
          if (!keep(f.name)) return false;
          total += f.originalSize;
          if (total > LIMITS.codeBytes) throw tooLarge();
          return true;
        },
      });
      Object.assign(raw, files);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw badRequest("The body is not a valid zip archive");
    }
  } else {
    const tar = format === "tar.gz" ? await gunzip(bytes) : bytes;
    let items: ReturnType<typeof parseTar>;
    try {
      items = parseTar(tar);
    } catch {
      throw badRequest("The body is not a valid tar archive");
    }
    for (const item of items) {
      const data = "data" in item ? item.data : undefined;
      if (item.type !== "file" || !data || !keep(item.name)) continue;
      total += data.byteLength;
      if (total > LIMITS.codeBytes) throw tooLarge();
      raw[item.name.replace(/^\.\//, "")] = data;
    }
  }

  const paths = Object.keys(raw);
  if (paths.length === 0) throw badRequest("The archive holds no files");
  const top = paths[0]?.split("/")[0];
  const shared = paths.every((p) => p.includes("/") && p.split("/")[0] === top);
  const files: Record<string, UploadFile> = {};
  for (const [path, data] of Object.entries(raw)) {
    files[shared ? path.slice((top as string).length + 1) : path] = fileFromBytes(data);
  }
  return files;
}
