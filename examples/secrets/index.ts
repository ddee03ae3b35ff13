/** What edgefn passes as the second argument of handle(). */
interface Context {
  /** The function's env vars and secrets. */
  env: Record<string, string>;
  /** The function's secrets only. */
  secrets: Record<string, string>;
  call: { functionId: string; callId: string };
  log: (...parts: unknown[]) => void;
}

interface Input {
  message: string;
}

/** Signs a message with HMAC-SHA256 under the `signing-key` secret and says which region signed it. */
export async function handle(data: Input, ctx: Context) {
  const secret = ctx.secrets["signing-key"];
  if (!secret) throw new Error("The secret signing-key is not set");
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(data.message));
  const signature = [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { region: ctx.env.REGION ?? "unknown", message: data.message, signature };
}
