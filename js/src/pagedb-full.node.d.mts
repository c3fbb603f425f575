/** Type of the Emscripten factory emitted as dist/pagedb-full.node.mjs (full module, Node build). */
import type { EmModule } from './engine.js';
declare const createModule: (opts?: Record<string, unknown>) => Promise<EmModule>;
export default createModule;
