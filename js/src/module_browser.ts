/** Loads the worker build of the wasm module; the .wasm is resolved next to this file. */
import createModule from './pagedb.browser.mjs';
import type { EmModule } from './engine.js';

export async function loadModule(): Promise<EmModule> {
  const wasmUrl = new URL('./pagedb.browser.wasm', import.meta.url).href;
  return createModule({ locateFile: () => wasmUrl });
}
