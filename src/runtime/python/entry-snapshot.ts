/**
 * The memory snapshot format of a Python isolate's entry module (JavaScript, part of pythonEntrySource): reading
 * and checking one, and writing Pyodide's with its all-zero pages left out.
 */
export const ENTRY_SNAPSHOT = `
/** Reads and checks a snapshot (format: see encodeSnapshot); throws when it is not one, or not whole. */
async function openSnapshot(bytes) {
  const all = new Uint8Array(bytes);
  if (all.byteLength < CONFIG.header) throw new ErrorBase("too short");
  const head = new DataView(all.buffer, all.byteOffset, CONFIG.header);
  if (head.getUint32(0, true) !== CONFIG.magic || head.getUint32(4, true) !== 1) throw new ErrorBase("not an edgefn snapshot");
  const pyHeaderLength = head.getUint32(8, true);
  const heapLength = head.getUint32(12, true);
  const page = head.getUint32(16, true);
  const pages = head.getUint32(20, true);
  const kept = head.getUint32(24, true);
  const bitmapLength = Math.ceil(pages / 64) * 8;
  const expected = CONFIG.header + bitmapLength + pyHeaderLength + kept * page;
  if (page !== CONFIG.page || pages * page !== heapLength || all.byteLength !== expected) throw new ErrorBase("its size does not add up");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all.subarray(CONFIG.header)));
  for (let i = 0; i < 32; i++) if (digest[i] !== all[32 + i]) throw new ErrorBase("its checksum does not match");
  const bitmap = all.subarray(CONFIG.header, CONFIG.header + bitmapLength);
  const pyHeader = all.slice(CONFIG.header + bitmapLength, CONFIG.header + bitmapLength + pyHeaderLength);
  const body = CONFIG.header + bitmapLength + pyHeaderLength;
  return {
    pyHeader,
    length: heapLength,
    write(HEAP8) {
      HEAP8.fill(0, 0, heapLength);
      let at = body;
      for (let i = 0; i < pages; i++) {
        if (bitmap[i >> 3] & (1 << (i & 7))) {
          HEAP8.set(all.subarray(at, at + page), i * page);
          at += page;
        }
      }
    },
  };
}

/** Pyodide's snapshot (its header, then the whole heap) with the all-zero pages left out, checksummed. */
async function encodeSnapshot(raw) {
  const pyHeaderLength = new DataView(raw.buffer, raw.byteOffset, 8).getUint32(4, true);
  const heap = raw.subarray(pyHeaderLength);
  const page = CONFIG.page;
  const pages = Math.ceil(heap.byteLength / page);
  const bitmapLength = Math.ceil(pages / 64) * 8;
  const bitmap = new Uint8Array(bitmapLength);
  const words = new Uint32Array(heap.buffer, heap.byteOffset, Math.floor(heap.byteLength / 4));
  let kept = 0;
  for (let i = 0; i < pages; i++) {
    const from = (i * page) / 4;
    const to = Math.min(words.length, from + page / 4);
    for (let w = from; w < to; w++) {
      if (words[w] !== 0) {
        bitmap[i >> 3] |= 1 << (i & 7);
        kept++;
        break;
      }
    }
  }
  const out = new Uint8Array(CONFIG.header + bitmapLength + pyHeaderLength + kept * page);
  const head = new DataView(out.buffer, 0, CONFIG.header);
  head.setUint32(0, CONFIG.magic, true);
  head.setUint32(4, 1, true);
  head.setUint32(8, pyHeaderLength, true);
  head.setUint32(12, pages * page, true);
  head.setUint32(16, page, true);
  head.setUint32(20, pages, true);
  head.setUint32(24, kept, true);
  out.set(bitmap, CONFIG.header);
  out.set(raw.subarray(0, pyHeaderLength), CONFIG.header + bitmapLength);
  let at = CONFIG.header + bitmapLength + pyHeaderLength;
  for (let i = 0; i < pages; i++) {
    if (bitmap[i >> 3] & (1 << (i & 7))) {
      out.set(heap.subarray(i * page, Math.min(heap.byteLength, (i + 1) * page)), at);
      at += page;
    }
  }
  out.set(new Uint8Array(await crypto.subtle.digest("SHA-256", out.subarray(CONFIG.header))), 32);
  return out;
}

`;
