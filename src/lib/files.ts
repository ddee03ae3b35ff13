/**
 * The files of an upload, as they are stored (`sources/<sha256>` in R2) and sent: a string is a UTF-8 text file,
 * `{ base64 }` holds a file's bytes (a `.wasm`, an image, a model, a wheel). Sources stored before binary files
 * existed hold only strings, and read the same.
 */
export type UploadFile = string | { base64: string };

// The Workers runtime has the base64 methods of Uint8Array (ES2026); TypeScript's es2023 library does not name them.
declare global {
  interface Uint8Array {
    toBase64(): string;
  }
  interface Uint8ArrayConstructor {
    fromBase64(text: string): Uint8Array;
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

export const isBinary = (file: UploadFile): file is { base64: string } => typeof file !== "string";

/**
 * True for standard, padded base64 (what `{ base64 }` must hold). Checked without a repeated group, which would
 * backtrack through megabytes of text.
 */
export function isBase64(text: string): boolean {
  if (text.length % 4 !== 0 || /[^A-Za-z0-9+/=]/.test(text)) return false;
  const pad = text.indexOf("=");
  return pad === -1 || (pad >= text.length - 2 && text.slice(pad) === "=".repeat(text.length - pad));
}

/** The number of bytes a file holds (a binary file's decoded size), without decoding it. */
export function fileSize(file: UploadFile): number {
  if (typeof file === "string") return encoder.encode(file).byteLength;
  const b64 = file.base64;
  const padding = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return (b64.length / 4) * 3 - padding;
}

export function fileBytes(file: UploadFile): Uint8Array {
  if (typeof file === "string") return encoder.encode(file);
  return Uint8Array.fromBase64(file.base64);
}

/** A file's text when it is text: a string, or bytes that are valid UTF-8 without NUL. Null for binary bytes. */
export function fileText(file: UploadFile): string | null {
  if (typeof file === "string") return file;
  return textOf(fileBytes(file));
}

function textOf(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** How bytes from an archive are kept: as text when they are valid UTF-8 without NUL bytes, else as base64. */
export function fileFromBytes(bytes: Uint8Array): UploadFile {
  return textOf(bytes) ?? { base64: bytes.toBase64() };
}
