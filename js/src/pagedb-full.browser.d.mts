/** Type of the Emscripten factory emitted as dist/pagedb-full.browser.mjs (full module, worker build). */
import type { EmModule } from './engine.js';
declare const createModule: (opts?: Record<string, unknown>) => Promise<EmModule>;
export default createModule;
