// Vite's `?raw` imports: a file's contents as a string (test/examples.test.ts reads the examples this way).
declare module "*?raw" {
  const content: string;
  export default content;
}
