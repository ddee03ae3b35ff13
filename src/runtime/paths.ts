import { BuildError } from "./errors";
import { PLATFORM_DIR } from "./guard";

/**
 * Cleans a user path: forward slashes, no leading "./" or "/", no "..", no empty segments. The platform's folder
 * of its own modules is refused in any letter case, so no upload can take the name of a platform module.
 */
export function normalizePath(path: string): string {
  const parts: string[] = [];
  for (const seg of path.replace(/\\/g, "/").split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length === 0) throw new BuildError(`Path '${path.slice(0, 200)}' points outside the upload`);
      parts.pop();
    } else parts.push(seg);
  }
  if (`${parts[0] ?? ""}/`.toLowerCase() === PLATFORM_DIR && parts.length > 1) {
    throw new BuildError(`Path '${path.slice(0, 200)}' is reserved for the platform's own modules`);
  }
  return parts.join("/");
}

export const dirname = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");

/** The specifier that imports module `to` from module `from` (both loader module names). */
export function relativeSpecifier(from: string, to: string): string {
  const a = dirname(from).split("/").filter(Boolean);
  const b = to.split("/");
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  const up = a.length - i;
  return (up === 0 ? "./" : "../".repeat(up)) + b.slice(i).join("/");
}
