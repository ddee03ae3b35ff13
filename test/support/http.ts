import { exports } from "cloudflare:workers";
import { gzipSync } from "fflate";
import { createTar } from "nanotar";
import { expect } from "vitest";
import type { ApiResponse } from "./api";

/** The compatibility surfaces and the native API (which /run and the Supabase surface answer in). */
export type Surface = "appwrite" | "cognite" | "gcore" | "native";

/** A raw request to the platform's fetch handler (any headers, any body, any host); the body parsed as JSON if it is. */
export async function send(url: string, init: RequestInit = {}): Promise<ApiResponse> {
  const res = await exports.default.fetch(url.startsWith("http") ? url : `http://edgefn.test${url}`, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

const NATIVE_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

/**
 * Asserts one surface's own error shape with this status and returns its message: Appwrite `{message, code, type,
 * version}`, Cognite `{error: {code, message, missing?, duplicated?}}`, Gcore `{message}`, and the native
 * `{error: {code, message, requestId}}` (also /run's and the Supabase surface's).
 */
export function expectSurfaceError(surface: Surface, res: ApiResponse, status: number): string {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  const body = res.body as any;
  switch (surface) {
    case "appwrite":
      expect(Object.keys(body).sort()).toEqual(["code", "message", "type", "version"]);
      expect(body).toMatchObject({ code: status, message: expect.any(String), type: expect.any(String) });
      return body.message;
    case "cognite":
      expect(Object.keys(body)).toEqual(["error"]);
      expect(body.error).toMatchObject({ code: status, message: expect.any(String) });
      return body.error.message;
    case "gcore":
      expect(body).toEqual({ message: expect.any(String) });
      return body.message;
    case "native":
      expect(Object.keys(body)).toEqual(["error"]);
      expect(body.error).toMatchObject({
        code: NATIVE_CODES[status] ?? expect.any(String),
        message: expect.any(String),
        requestId: expect.any(String),
      });
      return body.error.message;
  }
}

/** A tar.gz of these files, as Appwrite deployments carry code. */
export function tgz(files: Record<string, string>): Uint8Array {
  return gzipSync(createTar(Object.entries(files).map(([name, data]) => ({ name, data }))));
}

/** An Appwrite deployment's multipart body. */
export function deploymentForm(code: Uint8Array, extra: Record<string, string> = {}): FormData {
  const form = new FormData();
  form.set("code", new File([code], "code.tar.gz", { type: "application/gzip" }));
  for (const [k, v] of Object.entries(extra)) form.set(k, v);
  return form;
}

/**
 * A request body produced lazily: `prefix`, then filler `chunkBytes` at a time, then `suffix`, `totalBytes` in all,
 * counting what the platform pulled (a body refused early is never produced whole).
 */
export function lazyBody(
  totalBytes: number,
  options: { prefix?: string | Uint8Array; suffix?: string | Uint8Array; chunkBytes?: number; fill?: number } = {},
) {
  const bytes = (v: string | Uint8Array | undefined) =>
    typeof v === "string" ? new TextEncoder().encode(v) : (v ?? new Uint8Array());
  const prefix = bytes(options.prefix);
  const suffix = bytes(options.suffix);
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  const chunk = new Uint8Array(chunkBytes).fill(options.fill ?? 0x61);
  const fillBytes = Math.max(0, totalBytes - prefix.byteLength - suffix.byteLength);
  const counter = { pulled: 0, total: prefix.byteLength + fillBytes + suffix.byteLength };
  let filled = 0;
  let stage = 0;
  /** The next piece of the body, or null at its end. */
  const next = (): Uint8Array | null => {
    for (;;) {
      if (stage === 0) {
        stage = 1;
        if (prefix.byteLength > 0) return prefix;
      } else if (stage === 1) {
        const n = Math.min(chunkBytes, fillBytes - filled);
        if (n > 0) {
          filled += n;
          return chunk.slice(0, n);
        }
        stage = 2;
      } else if (stage === 2) {
        stage = 3;
        if (suffix.byteLength > 0) return suffix;
      } else return null;
    }
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const piece = next();
        if (piece === null) {
          controller.close();
          return;
        }
        counter.pulled += piece.byteLength;
        controller.enqueue(piece);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, counter };
}
