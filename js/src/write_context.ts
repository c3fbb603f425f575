/**
 * write_context.ts — knowing whether code runs inside a db.write callback, so that a
 * nested db.write (or db.close, db.segments.delete), which would wait for the outer write
 * while the outer write waits for it, is refused at once with EMISUSE instead of hanging.
 *
 * Two implementations:
 *  - exact (Node: AsyncLocalStorage, installed by node.ts): the callback's whole
 *    asynchronous continuation — after any number of awaits, in timers and callbacks it
 *    starts — carries the list of write callbacks it runs in, until each settles;
 *  - synchronous (browsers, which have no async context yet): only the callback's
 *    synchronous part (up to its first await) is known to be inside.
 * Thread-safety: one event loop; the synchronous stack is module state.
 */

/** One running write callback: the database it writes and whether it has settled. */
export interface WriteFrame {
  readonly db: object;
  done: boolean;
}

/** How the Database learns that the current code runs inside one of its write callbacks. */
export interface WriteContext {
  /** True when `inside` sees the whole asynchronous continuation of a callback. */
  readonly exact: boolean;
  /** Run fn (a write callback's start) inside `frame`; returns fn's result. */
  run<T>(frame: WriteFrame, fn: () => T): T;
  /** True when the calling code runs inside a write callback of `db` that has not settled. */
  inside(db: object): boolean;
}

const stack: WriteFrame[] = [];

/** The synchronous tracker (the default). */
export const syncWriteContext: WriteContext = {
  exact: false,
  run<T>(frame: WriteFrame, fn: () => T): T {
    stack.push(frame);
    try {
      return fn();
    } finally {
      stack.pop();
    }
  },
  inside: (db) => stack.some((f) => f.db === db && !f.done),
};

let current: WriteContext = syncWriteContext;

/** Install the tracker of this platform (node.ts: AsyncLocalStorage). */
export function setWriteContext(c: WriteContext): void {
  current = c;
}

/** The installed tracker. */
export function writeContext(): WriteContext {
  return current;
}
