/**
 * snapshot_chunks.ts — the chunks of a snapshot stream given to importSnapshot, whether a
 * ReadableStream or an AsyncIterable (Node and browser entries share it).
 */

/**
 * The chunks of `stream` in order. A ReadableStream is read through a reader whose lock is
 * released when the generator ends (also early, by return(): the stream is then cancelled).
 */
export async function* chunksOf(stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (typeof (stream as ReadableStream<Uint8Array>).getReader === 'function') {
    const r = (stream as ReadableStream<Uint8Array>).getReader();
    let done = false;
    try {
      for (;;) {
        const c = await r.read();
        if (c.done) {
          done = true;
          return;
        }
        yield c.value;
      }
    } finally {
      if (!done) await r.cancel().catch(() => undefined);
      r.releaseLock();
    }
  } else {
    yield* stream as AsyncIterable<Uint8Array>;
  }
}
