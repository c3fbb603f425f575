// Prepended to the Node build of the ES module (emcc --extern-pre-js): Emscripten 3.1.6's
// Node glue calls require() and reads __dirname, which an ES module does not have.
import { createRequire as pagedbCreateRequire } from 'node:module';
const require = pagedbCreateRequire(import.meta.url);
const __dirname = new URL('.', import.meta.url).pathname;
