#!/usr/bin/env node
/**
 * pagedb-wasi — the pagedb command-line tool as a WebAssembly module (pagedb.wasm, WASI
 * preview 1) run by Node's `node:wasi`. Same commands, output and exit codes as the native
 * `pagedb` (run `pagedb-wasi help`), and the same database files.
 *
 * Usage: pagedb-wasi [--dir DIR]... COMMAND ARGS...
 *   The module can only reach preopened directories. The current directory is always
 *   preopened (as "." and as its absolute path), so relative paths and absolute paths below
 *   it work; `--dir DIR` preopens another directory (as written and as its absolute path).
 *   A database or file argument outside every preopened directory is refused before the
 *   module runs (exit 2) with the --dir to add: the module itself could only say "not found".
 *   The host's PAGEDB_* variables (PAGEDB_KEY, PAGEDB_PASSPHRASE, PAGEDB_CACHE_BYTES, ...)
 *   are passed to the module; nothing else of the environment is.
 *   The module: $PAGEDB_WASI_MODULE if set, else dist/wasi/pagedb.wasm of this package, else
 *   build/wasi/pagedb.wasm (a source checkout after scripts/build-wasi.sh).
 *
 * Locking: WASI has no file locks, so this process cannot see another process (native or
 * wasm) that has the same database open; do not write to one database from two processes.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PreopenError, reexecWithNodeFlags, runWasi } from '../wasi/run.mjs';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '..', '..');

function modulePath() {
  const candidates = [
    process.env.PAGEDB_WASI_MODULE,
    join(root, 'dist', 'wasi', 'pagedb.wasm'),
    join(root, 'build', 'wasi', 'pagedb.wasm'),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    process.stderr.write(
      `pagedb-wasi: pagedb.wasm not found (looked at ${candidates.join(', ')}); ` +
        'build it with scripts/build-wasi.sh or set PAGEDB_WASI_MODULE\n',
    );
    process.exit(3);
  }
  return found;
}

/**
 * The path arguments of a command line (COMMAND ARGS...) as the native CLI takes them
 * (cli/main.c): DB for every command, FILE for import and segment append ("-" is stdin).
 */
function pathArgs(args) {
  const [cmd, ...rest] = args;
  if (!cmd || cmd === 'help') return [];
  if (cmd === 'segment') {
    const [sub, db, , file] = rest;
    const out = db !== undefined ? [db] : [];
    if (sub === 'append' && file !== undefined && file !== '-') out.push(file);
    return out;
  }
  if (cmd === 'import') return [rest[0], rest[2]].filter((p) => p !== undefined && !p.startsWith('--'));
  return rest.length && !rest[0].startsWith('--') ? [rest[0]] : [];
}

/** True when the host path p lies in (or is) one of the preopened host directories. */
function reachable(p, dirs) {
  const abs = resolve(p);
  return dirs.some((d) => {
    const r = resolve(d);
    return abs === r || abs.startsWith(r.endsWith(sep) ? r : r + sep);
  });
}

async function main() {
  const argv = process.argv.slice(2);
  reexecWithNodeFlags(self, argv);
  const dirs = ['.'];
  let i = 0;
  while (i < argv.length && (argv[i] === '--dir' || argv[i].startsWith('--dir='))) {
    const d = argv[i] === '--dir' ? argv[++i] : argv[i].slice('--dir='.length);
    if (!d) {
      process.stderr.write('pagedb-wasi: --dir needs a directory\n');
      process.exit(2);
    }
    dirs.push(d);
    i++;
  }
  for (const p of pathArgs(argv.slice(i))) {
    if (reachable(p, dirs)) continue;
    const parent = dirname(resolve(p));
    process.stderr.write(
      `pagedb-wasi: ${p} is not inside a preopened directory: the WebAssembly module can only reach ` +
        `the current directory and the directories given with --dir (${dirs.map((d) => resolve(d)).join(', ')}); ` +
        `pass --dir ${parent} before the command, e.g. pagedb-wasi --dir ${parent} ${argv.slice(i).join(' ')}\n`,
    );
    process.exit(2);
  }
  const preopens = {};
  for (const d of dirs) {
    preopens[d] = resolve(d);
    preopens[resolve(d)] = resolve(d);
  }
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('PAGEDB_')) env[k] = v;
  process.exitCode = await runWasi(modulePath(), { args: argv.slice(i), argv0: 'pagedb', env, preopens });
}

main().catch((e) => {
  if (e instanceof PreopenError) {
    process.stderr.write(`pagedb-wasi: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`pagedb-wasi: ${e.stack ?? e}\n`);
  process.exit(3);
});
