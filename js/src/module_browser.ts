/** Loads the worker build of the wasm module; pagedb.wasm (shared with Node) is resolved next to this file. */
import createModule from './pagedb.browser.mjs';
import { testModeHook, type EmModule } from './engine.js';
import type { OpenOptions } from './types.js';

/** A fresh module instance; see testModeHook for the deterministic test mode. */
export async function loadModule(options: OpenOptions): Promise<EmModule> {
  const wasmUrl = new URL('./pagedb.wasm', import.meta.url).href;
  return createModule({ locateFile: () => wasmUrl, preRun: [testModeHook(options)] });
}
