/**
 * Tar as GNU tar, bsdtar and other writers make it: POSIX ustar (its `prefix` field), GNU long names (`L`
 * entries) and pax extended headers (`x` records: `path`, `size`), read as a stream so the entries that are
 * skipped never sit in memory. (nanotar, which the project also depends on, drops the ustar prefix and misreads
 * pax records whose values hold spaces or `=`.) Also a small writer for downloads, with pax headers for long names.
 */

/** A tar that cannot be read: the caller answers 400. */
export class TarError extends Error {
  override name = "TarError";
}

export type TarEntryType = "file" | "directory" | "symlink" | "hardlink" | "other";

export interface TarHeader {
  path: string;
  type: TarEntryType;
  size: number;
}

const BLOCK = 512;
const utf8 = new TextDecoder();

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return utf8.decode(end === -1 ? bytes : bytes.subarray(0, end));
}

/** A numeric field: octal text, or GNU's base-256 (high bit set) for large values. */
function numberField(bytes: Uint8Array): number {
  if (bytes[0] !== undefined && bytes[0] & 0x80) {
    let value = bytes[0] & 0x7f;
    for (let i = 1; i < bytes.length; i++) value = value * 256 + (bytes[i] as number);
    return value;
  }
  const text = cString(bytes).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarError("a tar header holds a number that is not octal");
  return Number.parseInt(text, 8);
}

function checksumOk(header: Uint8Array): boolean {
  const stored = numberField(header.subarray(148, 156));
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (header[i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** pax records: `<length> <key>=<value>\n`, the length counting the whole record in bytes. */
function paxRecords(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number(utf8.decode(data.subarray(at, space)));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) {
      throw new TarError("a pax extended header is malformed");
    }
    const record = utf8.decode(data.subarray(space + 1, at + length - 1));
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}

const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "5": "directory",
};

/**
 * Reads a tar stream chunk by chunk. `onEntry` is told each entry's header (of any type); returning true for a
 * regular file asks for its bytes, which `onData` then gets whole. Entries not asked for are skipped as their
 * bytes stream by.
 */
export class TarReader {
  private buffer: Uint8Array = new Uint8Array(0);
  private state: "header" | "data" | "skip" | "meta" | "end" = "header";
  private remaining = 0;
  private padding = 0;
  private current: TarHeader | null = null;
  private parts: Uint8Array[] = [];
  private meta: "pax" | "gnu" | "global" | null = null;
  private next: { path?: string; size?: number } = {};

  constructor(
    private readonly onEntry: (header: TarHeader) => boolean,
    private readonly onData: (header: TarHeader, data: Uint8Array) => void,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.over) return;
    this.buffer = this.buffer.length === 0 ? chunk : concat([this.buffer, chunk]);
    const length = this.buffer.length;
    let at = 0;
    while (!this.over) {
      if (this.state === "header") {
        if (length - at < BLOCK) break;
        this.header(this.buffer.subarray(at, at + BLOCK));
        at += BLOCK;
      } else if (this.remaining > 0) {
        const take = Math.min(length - at, this.remaining);
        if (take === 0) break;
        if (this.state !== "skip") this.parts.push(this.buffer.slice(at, at + take));
        this.remaining -= take;
        at += take;
      } else if (this.padding > 0) {
        const take = Math.min(length - at, this.padding);
        if (take === 0) break;
        this.padding -= take;
        at += take;
      } else {
        this.finishEntry();
      }
    }
    this.buffer = this.buffer.slice(at);
  }

  /** After the end-of-archive marker (a zero block). */
  private get over(): boolean {
    return this.state === "end";
  }

  /** The stream is over: an entry cut short is an error; a missing end-of-archive marker is not. */
  end(): void {
    if (this.state === "header" && this.buffer.length === 0) return;
    if (this.state !== "end") throw new TarError("the tar archive ends in the middle of an entry");
  }

  private header(block: Uint8Array): void {
    if (block.every((b) => b === 0)) {
      this.state = "end";
      return;
    }
    if (!checksumOk(block)) throw new TarError("a tar header's checksum does not match: not a tar archive");
    const flag = String.fromCharCode(block[156] as number);
    const isMeta = flag === "x" || flag === "g" || flag === "L";
    const size = (isMeta ? undefined : this.next.size) ?? numberField(block.subarray(124, 136));
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.remaining = size;
    this.padding = padding;
    this.parts = [];
    if (isMeta) {
      this.meta = flag === "x" ? "pax" : flag === "g" ? "global" : "gnu";
      this.state = "meta";
      if (size > 1024 * 1024) throw new TarError("a tar extended header is larger than 1 MiB");
      return;
    }
    let path = this.next.path;
    if (path === undefined) {
      const name = cString(block.subarray(0, 100));
      // POSIX ustar ("ustar\0"): a long name is split into prefix (345..500) and name. GNU's "ustar  \0" keeps
      // other fields there.
      const posix = block[257] === 0x75 && block[262] === 0 && cString(block.subarray(257, 262)) === "ustar";
      const prefix = posix ? cString(block.subarray(345, 500)) : "";
      path = prefix ? `${prefix}/${name}` : name;
    }
    this.next = {};
    this.current = { path, type: TYPES[flag] ?? "other", size };
    const wanted = this.onEntry(this.current) && this.current.type === "file";
    this.state = wanted ? "data" : "skip";
  }

  private finishEntry(): void {
    const data = concat(this.parts);
    this.parts = [];
    if (this.state === "meta") {
      if (this.meta === "pax") {
        const records = paxRecords(data);
        if (records.path !== undefined) this.next.path = records.path;
        if (records.size !== undefined) {
          const size = Number(records.size);
          if (!Number.isSafeInteger(size) || size < 0) throw new TarError("a pax size record is not a size");
          this.next.size = size;
        }
      } else if (this.meta === "gnu") {
        this.next.path = cString(data);
      }
      this.meta = null;
    } else if (this.state === "data" && this.current) {
      this.onData(this.current, data);
    }
    this.current = null;
    this.state = "header";
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const encoder = new TextEncoder();

function headerBlock(name: string, size: number, flag: string): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (text: string, at: number, length: number) => block.set(encoder.encode(text).subarray(0, length), at);
  put(name, 0, 100);
  put("0000644\0", 100, 8);
  put("0000000\0", 108, 8);
  put("0000000\0", 116, 8);
  put(`${size.toString(8).padStart(11, "0")}\0`, 124, 12);
  put("00000000000\0", 136, 12);
  put(flag, 156, 1);
  put("ustar\0" + "00", 257, 8);
  block.fill(0x20, 148, 156);
  const sum = block.reduce((n, b) => n + b, 0);
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return block;
}

const padded = (bytes: Uint8Array) => {
  const out = new Uint8Array(Math.ceil(bytes.length / BLOCK) * BLOCK);
  out.set(bytes);
  return out;
};

/** A ustar archive of the files, with a pax header for each name longer than the ustar field holds. */
export function writeTar(files: { path: string; data: Uint8Array }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const { path, data } of files) {
    if (encoder.encode(path).length > 100) {
      const record = (n: number) => `${n} path=${path}\n`;
      let length = encoder.encode(record(0)).length;
      while (encoder.encode(record(length)).length !== length) length = encoder.encode(record(length)).length;
      const pax = encoder.encode(record(length));
      parts.push(headerBlock("PaxHeader", pax.length, "x"), padded(pax));
    }
    parts.push(headerBlock(path, data.length, "0"), padded(data));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return concat(parts);
}
