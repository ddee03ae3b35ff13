/**
 * Part of the generated entry module (./entry.ts): reading an HTTP answer's body inside the isolate when it is
 * already complete, so that the host gets the answer and the call's logs in one RPC (the entry's `serve`). Plain
 * JavaScript, run before any user code, with its own copies of the intrinsics it uses.
 */
export const WHOLE_BODY_SOURCE = `const ReadableStreamBase = ReadableStream;
const PromiseBase = Promise;
const race = Promise.race;
const setTimer = setTimeout;
const clearTimer = clearTimeout;
const arrayPush = Array.prototype.push;
const readChunk = ReadableStreamDefaultReader.prototype.read;
const cancelReader = ReadableStreamDefaultReader.prototype.cancel;
const getReader = ReadableStream.prototype.getReader;

const MAX_WHOLE = 1024 * 1024;
const LATE = {};
/**
 * An answer's body read as far as it is there: { body } (bytes, or null) when it ended before a timer of 0 ms set at
 * the start fired, within 1 MiB; else { rest }: a stream of what was read and what is still to come.
 */
async function readWhole(response) {
  if (response.body === null) return { body: null };
  const reader = apply(getReader, response.body, []);
  const chunks = [];
  let size = 0;
  // One timer for the whole read: a body already there is read before it fires (and the timer is cleared).
  let timer;
  const late = new PromiseBase((r) => {
    timer = setTimer(() => r(LATE), 0);
  });
  try {
    for (;;) {
      const next = apply(readChunk, reader, []);
      const step = size > MAX_WHOLE ? LATE : await apply(race, PromiseBase, [[next, late]]);
      if (step === LATE) return { rest: restOf(chunks, next, reader) };
      if (step.done) break;
      const value = step.value;
      if (!(value instanceof Uint8Array)) return { rest: restOf([...chunks, value], null, reader) };
      apply(arrayPush, chunks, [value]);
      size += value.byteLength;
    }
  } finally {
    clearTimer(timer);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return { body };
}

function restOf(chunks, pending, reader) {
  let next = pending;
  return new ReadableStreamBase({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
    },
    async pull(controller) {
      const step = await (next ?? apply(readChunk, reader, []));
      next = null;
      if (step.done) controller.close();
      else controller.enqueue(step.value);
    },
    cancel(reason) {
      return apply(cancelReader, reader, [reason]);
    },
  });
}
`;
