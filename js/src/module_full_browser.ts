/**
 * Loads the full module's worker build (data key rotation: dist/pagedb-full.browser.mjs and
 * dist/pagedb-full.wasm, resolved next to this file). Reached only through import() on
 * the first db.rotateKeys step (handler.ts, rotate.ts), never at first load.
 */
import createModule from './pagedb-full.browser.mjs';
import { testModeHook, type EmModule } from './engine.js';
import type { OpenOptions } from './types.js';

/** A fresh full module instance; see testModeHook for the deterministic test mode. Rejects as Emscripten's loader does (fetch or compile errors). */
export async function loadFullModule(options: OpenOptions): Promise<EmModule> {
  const wasmUrl = new URL('./pagedb-full.wasm', import.meta.url).href;
  return createModule({ locateFile: () => wasmUrl, preRun: [testModeHook(options)] });
}
