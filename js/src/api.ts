/**
 * api.ts — the parts of the public API shared by the browser and Node entries (index.ts,
 * node.ts): named tables with codecs (table.ts), codecs (codec.ts) and order-preserving
 * key encodings (`keys`, keys.ts).
 */
export * as keys from './keys.js';
export type { TupleElement, TupleValue } from './keys.js';
export { Table } from './table.js';
export type { TableInfo, TableOptions, TableInput, TypedReadTable, TypedWriteTable } from './table.js';
export type { Codec, CodecSpec } from './codec.js';
