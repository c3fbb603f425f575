/**
 * protocol.ts — the typed worker protocol: requests `{id, op, args}` answered by
 * `{id, ok: true, result}` or `{id, ok: false, code, message}`; the worker first posts
 * `{ready: true}`. Each op's argument and result types are in the maps below.
 */
import type { OpenOptions, RangeOptions, Stats } from './types.js';

/** A buffered write: [0, table, key, value] = put, [1, table, key] = delete. */
export type WriteOp = [0, string, Uint8Array, Uint8Array] | [1, string, Uint8Array];

export interface OpArgs {
  open: { name: string; options: OpenOptions };
  begin: { write: boolean };
  get: { txn: number; table: string; key: Uint8Array; ops: WriteOp[] };
  scan: { txn: number; table: string; range: RangeOptions; max: number; ops: WriteOp[] };
  commit: { txn: number; ops: WriteOp[] };
  abort: { txn: number };
  writeBatch: { ops: WriteOp[] };
  stat: Record<string, never>;
  verify: Record<string, never>;
  close: Record<string, never>;
}

export interface OpResults {
  open: null;
  begin: { txn: number };
  get: { value: Uint8Array | undefined };
  scan: { entries: [Uint8Array, Uint8Array][]; more: boolean };
  commit: null;
  abort: null;
  writeBatch: null;
  stat: Stats;
  verify: { pages: number };
  close: null;
}

export type Op = keyof OpArgs;

export interface Request<K extends Op = Op> {
  id: number;
  op: K;
  args: OpArgs[K];
}

export type Response<K extends Op = Op> =
  | { id: number; ok: true; result: OpResults[K] }
  | { id: number; ok: false; code: number; message: string };

/** Something that executes ops: the worker (via postMessage) or an in-process handler. */
export interface Endpoint {
  call<K extends Op>(op: K, args: OpArgs[K]): Promise<OpResults[K]>;
}
