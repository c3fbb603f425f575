/**
 * Loads the full module's Node build (data key rotation: dist/pagedb-full.node.mjs and
 * dist/pagedb-full.wasm, read next to this file). Reached only through import() on the
 * first db.rotateKeys step (node.ts passes it to Handler).
 */
import * as fs from 'node:fs';
import createModule from './pagedb-full.node.mjs';
import { testModeHook, type EmModule } from './engine.js';
import type { OpenOptions } from './types.js';

/** A fresh full module instance (its backend is installed by rotate_engine.ts). Throws as fs.readFileSync (ENOENT when the package lacks the file). */
export async function loadFullModule(options: OpenOptions): Promise<EmModule> {
  const wasmBinary = fs.readFileSync(new URL('./pagedb-full.wasm', import.meta.url));
  return createModule({ wasmBinary, preRun: [testModeHook(options)] });
}
