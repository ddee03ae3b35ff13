import { ApiError, badRequest } from "./errors";
import { fileFromBytes, type UploadFile } from "./files";
import { LIMITS } from "./limits";
import { TarError, TarReader } from "./tar";
import { ZipError, ZipTooManyEntries, zipEntries } from "./zip";

export type ArchiveFormat = "zip" | "tar" | "tar.gz";

const tooLarge = (what = `larger than ${LIMITS.codeBytes} bytes uncompressed`) =>
  new ApiError("payload_too_large", `The code is ${what}; upload less`);

const tooManyEntries = () =>
  new ApiError(
    "payload_too_large",
    `The archive holds more than ${LIMITS.archive.entries} entries or ${LIMITS.codeFiles} files; upload less`,
  );

/** Tells an archive's format from its first bytes (a tar by its ustar magic or its header's checksum). */
export function sniffArchive(bytes: Uint8Array): ArchiveFormat | null {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5)) return "zip";
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return "tar.gz";
  if (bytes.length >= 512 && String.fromCharCode(...bytes.subarray(257, 262)) === "ustar") return "tar";
  if (bytes.length >= 512 && looksLikeTarHeader(bytes.subarray(0, 512))) return "tar";
  return null;
}

function looksLikeTarHeader(block: Uint8Array): boolean {
  const stored = Number.parseInt(String.fromCharCode(...block.subarray(148, 156)).replace(/[\0 ]+$/, ""), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return block[0] !== 0 && stored === sum;
}

/** Folders and files of a project that are not its code: version control, editors' and systems' droppings. */
const JUNK = new Set(["__MACOSX", "Thumbs.db", "desktop.ini"]);

/**
 * An entry's path inside the upload: backslashes (Windows zips) become slashes, `./` and empty segments go, a
 * leading `/` is dropped (as tar does). A `..` segment or a drive letter is refused: nothing is ever placed
 * outside the upload. Returns null for the archive's root itself (`./`).
 */
export function archivePath(raw: string): string | null {
  const parts: string[] = [];
  for (const segment of raw.replace(/\\/g, "/").split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === ".." || (parts.length === 0 && /^[A-Za-z]:$/.test(segment))) {
      throw badRequest(`The archive's entry '${raw.slice(0, 200)}' points outside the archive`);
    }
    parts.push(segment);
  }
  return parts.length === 0 ? null : parts.join("/");
}

/** Dotfiles and dot-folders (.git, .env, .DS_Store, macOS's ._ files) and system junk are left out. */
const skipped = (path: string) => path.split("/").some((s) => s.startsWith(".") || JUNK.has(s));

/** Collects an archive's kept files within the limits. */
class Collector {
  readonly files = new Map<string, Uint8Array>();
  private total = 0;
  private entries = 0;

  /** Counts an entry of any kind; the path it keeps, or null when it is left out. */
  admit(raw: string, kind: string, size: number): string | null {
    if (++this.entries > LIMITS.archive.entries) throw tooManyEntries();
    if (kind !== "file") return null;
    const path = archivePath(raw);
    if (path === null || skipped(path)) return null;
    this.total += size;
    if (this.total > LIMITS.codeBytes) throw tooLarge();
    if (!this.files.has(path) && this.files.size >= LIMITS.codeFiles) throw tooManyEntries();
    return path;
  }
}

function unzip(bytes: Uint8Array, into: Collector): void {
  let entries: ReturnType<typeof zipEntries>;
  try {
    entries = zipEntries(bytes, LIMITS.archive.entries);
  } catch (err) {
    if (err instanceof ZipTooManyEntries) throw tooManyEntries();
    if (err instanceof ZipError) throw badRequest(`The body is not a valid zip archive: ${err.message}`);
    throw err;
  }
  // Every kept entry is admitted (sizes as declared) before any is inflated.
  const kept = entries.flatMap((e) => {
    const path = into.admit(e.name, e.kind, e.size);
    return path === null ? [] : [{ path, entry: e }];
  });
  for (const { path, entry } of kept) {
    try {
      into.files.set(path, entry.read());
    } catch (err) {
      if (err instanceof ZipError) throw badRequest(`The zip archive cannot be read: ${err.message}`);
      throw err;
    }
  }
}

async function untar(bytes: Uint8Array, gzipped: boolean, into: Collector): Promise<void> {
  const reader = new TarReader(
    (header) => into.admit(header.path, header.type, header.size) !== null,
    (header, data) => into.files.set(archivePath(header.path) as string, data),
  );
  let streamed = 0;
  const feed = (chunk: Uint8Array) => {
    streamed += chunk.byteLength;
    // Skipped entries (a .git folder) stream by without being kept, but not without end.
    if (streamed > LIMITS.archive.bytes) throw tooLarge(`an archive of more than ${LIMITS.archive.bytes} bytes`);
    reader.push(chunk);
  };
  try {
    if (!gzipped) feed(bytes);
    else {
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      try {
        for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) feed(chunk);
      } catch (err) {
        if (err instanceof ApiError || err instanceof TarError) throw err;
        throw badRequest("The archive is not valid gzip");
      }
    }
    reader.end();
  } catch (err) {
    if (err instanceof TarError) throw badRequest(`The body is not a valid tar archive: ${err.message}`);
    throw err;
  }
}

/**
 * Unpacks a zip, tar or tar.gz upload into files by path: text when valid UTF-8 without NUL bytes, else binary
 * (base64). Folders, links and devices are skipped, and so are dotfiles and dot-folders (`.git/`, `.env`,
 * `.DS_Store`); a `node_modules/` folder is kept. A folder every file shares is removed. The kept files'
 * uncompressed size is held to the code limit before they are kept (a zip's declared sizes before inflating).
 */
export async function unpackArchive(bytes: Uint8Array): Promise<Record<string, UploadFile>> {
  const format = sniffArchive(bytes);
  if (!format) throw badRequest("The body is not a zip, tar or tar.gz archive");
  const collector = new Collector();
  if (format === "zip") unzip(bytes, collector);
  else await untar(bytes, format === "tar.gz", collector);

  const paths = [...collector.files.keys()];
  if (paths.length === 0) throw badRequest("The archive holds no files (dotfiles, folders and links are skipped)");
  const top = paths[0]?.split("/")[0] as string;
  const shared = top !== "node_modules" && paths.every((p) => p.startsWith(`${top}/`));
  const files: Record<string, UploadFile> = {};
  for (const [path, data] of collector.files) files[shared ? path.slice(top.length + 1) : path] = fileFromBytes(data);
  return files;
}
