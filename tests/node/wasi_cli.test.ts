// The WASI CLI (js/bin/pagedb-wasi.mjs) and a database outside its preopened directories
// (issue 10, defect 8): it said "ENOTFOUND: no database at ..." (or "cannot create
// directory"); it now says the directory is not preopened and how to pass --dir, with
// the usage exit status 2, and works once --dir is given.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'js/bin/pagedb-wasi.mjs');
const env = { ...process.env, PAGEDB_KEY: 'ab'.repeat(32) };
let cwd: string, other: string;

beforeEach(() => {
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-wasi-cwd-'));
  other = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-wasi-other-'));
});
afterEach(() => {
  fs.rmSync(cwd, { recursive: true, force: true });
  fs.rmSync(other, { recursive: true, force: true });
});

function run(args: string[]) {
  if (!fs.existsSync(path.join(root, 'build/wasi/pagedb.wasm')) && !fs.existsSync(path.join(root, 'dist/wasi/pagedb.wasm')))
    throw new Error('missing pagedb.wasm: run scripts/build-wasi.sh cli first');
  return spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
}

describe('pagedb-wasi outside its preopened directories (defect 8)', () => {
  it('wasi-1: init, get, import and segment append name the missing --dir instead of ENOTFOUND', () => {
    const db = path.join(other, 'db');
    for (const args of [['init', db], ['get', db, 't', 'k'], ['segment', 'ls', db], ['stat', '../elsewhere']]) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(/ENOTFOUND/);
      expect(r.stderr).toMatch(/not inside a preopened directory/);
      expect(r.stderr).toMatch(/--dir /);
    }
    expect(run(['init', db]).stderr).toContain(`--dir ${other}`);
    // a file argument outside as well
    fs.mkdirSync(path.join(cwd, 'sub'));
    const r = run(['import', 'sub/db', 't', path.join(other, 'rows.jsonl'), '--key', 'id']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(path.join(other, 'rows.jsonl'));
    expect(fs.existsSync(db)).toBe(false);
  });

  it('wasi-2: with --dir the same commands work', () => {
    const db = path.join(other, 'db');
    const init = run(['--dir', other, 'init', db]);
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    expect(run(['--dir', other, 'put', db, 't', 'k', 'v']).status).toBe(0);
    const get = run(['--dir', other, 'get', db, 't', 'k']);
    expect(get.status).toBe(0);
    expect(get.stdout).toBe('v\n');
    // inside the current directory needs no --dir
    expect(run(['init', 'here']).status).toBe(0);
  });
});
