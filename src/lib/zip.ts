/**
 * Zip as zip(1), Windows, macOS and language libraries make it, read from its central directory: every entry's
 * name, kind (a Unix symlink, a folder) and declared size are known before anything is inflated, so the caller
 * can refuse a bomb or skip entries without decompressing them. Inflating is fflate's. Zip64 sizes and offsets
 * are read; encrypted entries and methods other than stored and deflate are refused.
 */
import { inflateSync } from "fflate";

export class ZipError extends Error {
  override name = "ZipError";
}

export class ZipTooManyEntries extends Error {
  constructor(readonly count: number) {
    super(`The zip holds ${count} entries`);
    this.name = "ZipTooManyEntries";
  }
}

export interface ZipEntry {
  /** The name as stored (backslashes and all). */
  name: string;
  kind: "file" | "directory" | "symlink";
  /** The uncompressed size the directory declares (what inflating will give at most). */
  size: number;
  /** Inflates the entry. */
  read(): Uint8Array;
}

const latin1 = (bytes: Uint8Array) => {
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
};
const utf8 = new TextDecoder();
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const strictUtf8 = (bytes: Uint8Array) => {
  try {
    return fatal.decode(bytes);
  } catch {
    return undefined;
  }
};

/** The entries of a zip, from its central directory; more than `maxEntries` is refused before any is read. */
export function zipEntries(bytes: Uint8Array, maxEntries: number): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  const inside = (at: number, length: number) => at >= 0 && length >= 0 && at + length <= bytes.length;

  // The end-of-central-directory record: in the last 22 bytes plus a comment of up to 64 KiB.
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (u32(at) === 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw new ZipError("no end of central directory: not a zip archive");
  let count = u16(eocd + 10);
  let offset = u32(eocd + 16);
  if ((count === 0xffff || offset === 0xffffffff) && eocd >= 20 && u32(eocd - 20) === 0x07064b50) {
    const z64 = u64(eocd - 12);
    if (!inside(z64, 56) || u32(z64) !== 0x06064b50) throw new ZipError("a zip64 directory record is missing");
    count = u64(z64 + 32);
    offset = u64(z64 + 48);
  }

  if (count > maxEntries) throw new ZipTooManyEntries(count);
  const entries: ZipEntry[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (!inside(at, 46) || u32(at) !== 0x02014b50) throw new ZipError("the central directory is damaged");
    const madeBy = u16(at + 4) >> 8;
    const flags = u16(at + 8);
    const method = u16(at + 10);
    let compressed = u32(at + 20);
    let size = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    const external = u32(at + 38);
    let local = u32(at + 42);
    if (!inside(at + 46, nameLength + extraLength)) throw new ZipError("the central directory is damaged");
    const rawName = bytes.subarray(at + 46, at + 46 + nameLength);
    let unicodePath: string | undefined;
    // Zip64: the 0xffffffff fields are in the extra field 0x0001, in this order.
    for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength; ) {
      const id = u16(e);
      const length = u16(e + 2);
      if (id === 0x7075 && length > 5 && inside(e + 9, length - 5)) {
        // Info-ZIP's Unicode Path field: version, CRC of the stored name, the name in UTF-8.
        unicodePath = utf8.decode(bytes.subarray(e + 9, e + 4 + length));
      } else if (id === 0x0001) {
        let f = e + 4;
        if (size === 0xffffffff) {
          size = u64(f);
          f += 8;
        }
        if (compressed === 0xffffffff) {
          compressed = u64(f);
          f += 8;
        }
        if (local === 0xffffffff) local = u64(f);
      }
      e += 4 + length;
    }
    at += 46 + nameLength + extraLength + commentLength;
    // Names flagged UTF-8, or with a Unicode Path field; else UTF-8 when they decode as such (what macOS and most
    // tools write without the flag), else the old single-byte code page.
    const name = flags & 0x800 ? utf8.decode(rawName) : (unicodePath ?? strictUtf8(rawName) ?? latin1(rawName));

    const mode = madeBy === 3 ? external >>> 16 : 0;
    const kind =
      (mode & 0o170000) === 0o120000
        ? "symlink"
        : name.endsWith("/") || name.endsWith("\\") || (mode & 0o170000) === 0o040000 || external & 0x10
          ? "directory"
          : "file";
    const read = () => {
      if (flags & 0x1) throw new ZipError(`${name.slice(0, 200)} is encrypted`);
      if (!inside(local, 30) || u32(local) !== 0x04034b50) throw new ZipError("a local file header is damaged");
      const start = local + 30 + u16(local + 26) + u16(local + 28);
      if (!inside(start, compressed)) throw new ZipError(`${name.slice(0, 200)} is cut short`);
      const data = bytes.subarray(start, start + compressed);
      if (method === 0) return data.slice(0, size);
      if (method !== 8) throw new ZipError(`${name.slice(0, 200)} uses compression method ${method}`);
      // Inflated into a buffer of the declared size: a stream that would give more is cut there.
      try {
        return inflateSync(data, { out: new Uint8Array(size) });
      } catch {
        throw new ZipError(`${name.slice(0, 200)} does not inflate`);
      }
    };
    entries.push({ name, kind, size, read });
  }
  return entries;
}
