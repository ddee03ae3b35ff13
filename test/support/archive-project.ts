/** The project folder test/support/archives.setup.mjs archives: text files, and bytes (a PNG's start). */
export const PROJECT: Record<string, string | number[]> = {
  "index.js": 'import { label } from "./lib/label.js";\nexport async function handle(d) { return label(d?.n ?? 0); }\n',
  "lib/label.js": 'export const label = (n) => "n=" + n;\n',
  "package.json": '{ "name": "archived", "type": "module" }\n',
  "logo.png": [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xfe],
  "spaced = é.txt": "a pax record with spaces, '=' and UTF-8 in its path\n",
  [`deep/${"d".repeat(70)}/${"e".repeat(60)}/file.txt`]: "a path longer than 100 bytes\n",
  "a-original.txt": "hard-linked\n",
  "node_modules/dep/package.json": '{ "name": "dep", "main": "index.js" }\n',
  "node_modules/dep/index.js": "module.exports = 42;\n",
};

declare module "vitest" {
  export interface ProvidedContext {
    /** Archives of PROJECT by name (gnu.tar.gz, proj.zip, ...), base64. */
    archives: Record<string, string>;
    /** The binary files of examples/ by path from the repository root (a wheel), base64. */
    exampleBinaries: Record<string, string>;
  }
}
