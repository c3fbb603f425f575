// The subset of Vitest's `expect` that tests/shared/*_cases.mjs use, for runners without
// Vitest (the browser page of the Playwright specs). A failed expectation throws an Error
// naming the expectation, the values and the optional message; nothing is ever skipped.
// Semantics follow Vitest's: toBe is Object.is; toEqual compares recursively (arrays, typed
// arrays, plain objects; object keys whose value is undefined are ignored; bigint by value).

const show = (v) => {
  try {
    return JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `Uint8Array(${x.length})` : x)) ?? String(v);
  } catch {
    return String(v);
  }
};

/** Recursive equality with Vitest's toEqual semantics (see the header). */
export function equals(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => equals(x, b[i]));
  const keys = (o) => Object.keys(o).filter((k) => o[k] !== undefined);
  const ka = keys(a), kb = keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equals(a[k], b[k]));
}

function matches(err, want) {
  if (want === undefined) return true;
  const msg = err && err.message !== undefined ? String(err.message) : String(err);
  if (typeof want === 'string') return msg.includes(want);
  if (want instanceof RegExp) return want.test(msg);
  if (typeof want === 'function') return err instanceof want;
  return false;
}

/**
 * expect(value, message?): an object with toBe, toEqual, toContain, toBeGreaterThan,
 * toBeGreaterThanOrEqual, toBeLessThanOrEqual, toBeInstanceOf, toBeUndefined, toMatch,
 * toThrow (value is a function), `.not` (the negation of each) and `.rejects.toThrow`
 * (value is a promise; returns a promise). Each throws an Error when the expectation fails.
 */
export function expect(value, message) {
  const make = (negate) => {
    const check = (pass, what, want) => {
      if (pass === negate) {
        throw new Error(`${message ? `${message}: ` : ''}expected ${show(value)} ${negate ? 'not ' : ''}${what}${want === undefined ? '' : ` ${show(want)}`}`);
      }
    };
    return {
      toBe: (want) => check(Object.is(value, want), 'to be', want),
      toEqual: (want) => check(equals(value, want), 'to equal', want),
      toContain: (want) => check(
        typeof value === 'string' ? value.includes(want) : [...value].some((x) => Object.is(x, want)), 'to contain', want),
      toBeGreaterThan: (n) => check(value > n, 'to be greater than', n),
      toBeGreaterThanOrEqual: (n) => check(value >= n, 'to be at least', n),
      toBeLessThanOrEqual: (n) => check(value <= n, 'to be at most', n),
      toBeInstanceOf: (cls) => check(value instanceof cls, 'to be an instance of', cls.name),
      toBeUndefined: () => check(value === undefined, 'to be undefined'),
      toMatch: (re) => check(typeof re === 'string' ? String(value).includes(re) : re.test(String(value)), 'to match', String(re)),
      toThrow: (want) => {
        let threw = false, err;
        try {
          value();
        } catch (e) {
          threw = true;
          err = e;
        }
        check(threw && matches(err, want), 'to throw', want === undefined ? undefined : String(want.name ?? want));
      },
    };
  };
  const api = make(false);
  api.not = make(true);
  api.rejects = {
    toThrow: async (want) => {
      let threw = false, err;
      try {
        await value;
      } catch (e) {
        threw = true;
        err = e;
      }
      if (!threw || !matches(err, want)) {
        throw new Error(`${message ? `${message}: ` : ''}expected a rejection ${want === undefined ? '' : `matching ${String(want)} `}but got ${threw ? String(err) : 'a fulfilment'}`);
      }
    },
  };
  return api;
}
