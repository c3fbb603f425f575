// Helpers shared by the Node suites (tests/node/*.test.ts).
import { expect } from 'vitest';
import { PagedbError } from '../../dist/node.js';

/**
 * Await `p` and require it to reject with a PagedbError whose code is one of `codes`
 * (ErrorCode values); returns that error. Fails the test when p fulfils or rejects with
 * anything else.
 */
export async function rejectsWith(p: Promise<unknown>, ...codes: number[]): Promise<PagedbError> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(PagedbError);
    expect(codes, String(e)).toContain((e as PagedbError).code);
    return e as PagedbError;
  }
  throw new Error(`expected a rejection with code ${codes.join(' or ')}`);
}
