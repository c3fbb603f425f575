// xorshift32 (Marsaglia, "Xorshift RNGs", J. Stat. Software 8(14), 2003; shifts 13, 17, 5):
// the reproducible number and byte source of the JavaScript suites, shared by the Node
// (Vitest) and browser (Playwright, imported by the page from the static server) runners.
// Not for cryptography: test data only.

/**
 * A generator seeded with `seed` (an integer; 0 is replaced by 1, the one state xorshift
 * cannot leave).
 * @param {number} seed
 * @returns {{ next(): number, int(n: number): number, bytes(n: number): Uint8Array }}
 *   next: the next 32-bit state (unsigned); int(n): a number in [0, n) for n >= 1;
 *   bytes(n): n fresh bytes, four per step, little-endian (a new array the caller owns).
 */
export function rng(seed) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    next,
    int: (n) => next() % n,
    bytes: (n) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i += 4) {
        const v = next();
        b[i] = v;
        if (i + 1 < n) b[i + 1] = v >>> 8;
        if (i + 2 < n) b[i + 2] = v >>> 16;
        if (i + 3 < n) b[i + 3] = v >>> 24;
      }
      return b;
    },
  };
}

/**
 * `n` bytes of the stream seeded with `seed`: the same bytes for the same (n, seed).
 * @param {number} n
 * @param {number} seed
 * @returns {Uint8Array}
 */
export function bytes(n, seed) {
  return rng(seed).bytes(n);
}
