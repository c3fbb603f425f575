// The package's types as TypeScript users meet them (issue 10, defect 5): a Node project
// (moduleResolution nodenext) importing `openSync` from 'pagedb' must get the Node entry's
// types (it got the browser's: TS2305), a browser project (moduleResolution bundler) the
// browser's, and PagedbError.code is the union of the C codes (not `number`). Each
// consumer is compiled by tsc against this package through its package.json "exports"
// (node_modules/pagedb -> the repository root with its built dist/).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
let dir: string;

const nodeConsumer = `
import { open, openSync, PagedbError, ErrorCode, type ErrorCodeValue, type ErrorCodeName, type SyncDatabase } from 'pagedb';

export async function main(): Promise<void> {
  const s: SyncDatabase = await openSync('db', { key: new Uint8Array(32), directory: '/tmp' });
  const w = s.beginWrite();
  w.put('t', 'k', new Uint16Array([1, 2]));
  w.commit();
  s.close();
  const db = await open('db', { key: new Uint8Array(32), directory: '/tmp' });
  await db.write((tx) => tx.table('t').put('k', new DataView(new ArrayBuffer(4))));
  await db.close();
}

export function explain(e: unknown): string {
  if (!(e instanceof PagedbError)) return 'other';
  const c: ErrorCodeValue = e.code;
  const n: \`PAGEDB_\${ErrorCodeName}\` = e.codeName;
  // @ts-expect-error the code is one of the C codes, not any number
  const bogus: 99 = e.code;
  switch (e.code) {
    case ErrorCode.EBUSY:
      return 'busy ' + c + n + bogus;
    default:
      return n;
  }
}
`;

const browserConsumer = `
import { open, PagedbError, ErrorCode } from 'pagedb';
import { openInWorker } from 'pagedb/sync';
// @ts-expect-error openSync is the Node entry's, not the browser's
import { openSync } from 'pagedb';

export async function main(): Promise<boolean> {
  const db = await open('notes', { key: new Uint8Array(32) });
  const s = await openInWorker('w', { passphrase: 'x' });
  s.close();
  try {
    await db.write((tx) => tx.table('t').put('k', 'v'));
  } catch (e) {
    return e instanceof PagedbError && e.code === ErrorCode.EFULL;
  }
  return typeof openSync === 'undefined';
}
`;

function project(name: string, compilerOptions: Record<string, unknown>, source: string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(p);
  fs.writeFileSync(path.join(p, 'package.json'), JSON.stringify({ name, type: 'module', private: true }));
  fs.writeFileSync(path.join(p, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', ...compilerOptions }, files: ['main.ts'] }));
  fs.writeFileSync(path.join(p, 'main.ts'), source);
  fs.mkdirSync(path.join(p, 'node_modules'));
  fs.symlinkSync(root, path.join(p, 'node_modules', 'pagedb'), 'dir');
  fs.symlinkSync(path.join(root, 'node_modules', '@types'), path.join(p, 'node_modules', '@types'), 'dir');
  return p;
}

function compile(p: string): string {
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(p, 'tsconfig.json')], { encoding: 'utf8', timeout: 120_000 });
  return `${r.status}\n${r.stdout}${r.stderr}`;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-types-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('published types (defect 5)', () => {
  it('types-1: a Node project (nodenext) gets the Node entry: openSync, typed error codes', () => {
    const p = project('node-consumer', { module: 'nodenext', moduleResolution: 'nodenext', types: ['node'], lib: ['ES2022'] }, nodeConsumer);
    expect(compile(p)).toBe('0\n');
  });

  it('types-2: a browser project (bundler) gets the browser entry and pagedb/sync', () => {
    const p = project('browser-consumer', { module: 'esnext', moduleResolution: 'bundler', types: [], lib: ['ES2022', 'DOM'] }, browserConsumer);
    expect(compile(p)).toBe('0\n');
  });
});
