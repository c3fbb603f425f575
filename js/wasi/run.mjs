#!/usr/bin/env node
/**
 * run.mjs — run a WASI preview 1 command module (pagedb.wasm, the build/wasi/tests/*.wasm
 * test programs) under Node's `node:wasi` with preopened directories.
 *
 * Command line:
 *   node --no-turbo-fast-api-calls js/wasi/run.mjs [OPTIONS] MODULE.wasm [--] [ARGS...]
 *     --dir HOST[::GUEST]  preopen host directory HOST under the guest path GUEST (default:
 *                          HOST exactly as written, wasmtime's convention, so `--dir /x/db`
 *                          lets the module open "/x/db/..."); repeatable
 *     --env NAME=VALUE     set a variable in the module's environment; `--env NAME` copies
 *                          the host's value if it has one; repeatable
 *     --env-prefix PREFIX  copy every host variable whose name starts with PREFIX
 *   The module sees argv[0] = the module's file name, then ARGS. The exit status is the
 *   module's exit code, or 134 when it traps (abort(), unreachable, out-of-bounds access;
 *   the trap is printed to stderr), or 2 for a usage error of this runner (including a
 *   --dir that is not an existing directory).
 *
 * Node's `node:wasi` can crash inside V8's fast API calls, so this file always runs with
 * --no-turbo-fast-api-calls: started without it, it re-executes itself with the flag
 * (NODE_OPTIONS does not accept it). It also keeps the ExperimentalWarning that
 * `node:wasi` prints out of the module's output.
 *
 * Library use: `import { runWasi } from './run.mjs'` — the importing process must have been
 * started with NODE_FLAGS (see assertNodeFlags).
 */
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Flags every Node process that instantiates a WASI module must be started with. */
export const NODE_FLAGS = ['--no-turbo-fast-api-calls'];

/** Exit status reported when the module traps (like a native abort: 128 + SIGABRT). */
export const TRAP_STATUS = 134;

/** A preopened directory that does not exist (a usage error: exit status 2). */
export class PreopenError extends Error {}

/** Throw unless this process runs with NODE_FLAGS. */
export function assertNodeFlags() {
  const missing = NODE_FLAGS.filter((f) => !process.execArgv.includes(f));
  if (missing.length) {
    throw new Error(`node:wasi needs node started with ${missing.join(' ')}`);
  }
}

/**
 * If this process lacks NODE_FLAGS, run `script` again in a child Node with them, forward
 * its exit status and never return. Returns normally when the flags are already present.
 */
export function reexecWithNodeFlags(script, args) {
  if (NODE_FLAGS.every((f) => process.execArgv.includes(f))) return;
  const r = spawnSync(process.execPath, [...NODE_FLAGS, ...process.execArgv, script, ...args], {
    stdio: 'inherit',
  });
  if (r.error) {
    process.stderr.write(`${basename(script)}: cannot start node: ${r.error.message}\n`);
    process.exit(2);
  }
  if (r.status !== null) process.exit(r.status);
  // Killed by a signal (e.g. a crash of node itself): report it like a shell would.
  process.stderr.write(`${basename(script)}: node was killed by ${r.signal}\n`);
  process.exit(128 + (constants.signals[r.signal] ?? 6));
}

/**
 * Run fn with Node's "WASI is an experimental feature" warning suppressed (it would end up
 * in the output of every module run); every other warning still goes through.
 */
async function quietly(fn) {
  const emit = process.emitWarning;
  process.emitWarning = function (warning, ...rest) {
    const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
    if (type === 'ExperimentalWarning' && /WASI/.test(String(warning))) return;
    return emit.call(this, warning, ...rest);
  };
  try {
    return await fn();
  } finally {
    process.emitWarning = emit;
  }
}

/**
 * Instantiate and run a WASI command module to completion.
 *   wasm      path of the .wasm file, or its bytes
 *   options   { args: string[] (argv after argv[0]), argv0?: string, env?: {NAME: value},
 *               preopens?: {guestPath: hostPath} }
 * Resolves to the module's exit code, or TRAP_STATUS after printing a trap to stderr.
 * stdin/stdout/stderr are this process's.
 */
export async function runWasi(wasm, { args = [], argv0, env = {}, preopens = {} } = {}) {
  assertNodeFlags();
  for (const [guest, host] of Object.entries(preopens)) {
    let st;
    try {
      st = await stat(host);
    } catch {
      throw new PreopenError(`cannot preopen ${guest}: ${host} does not exist`);
    }
    if (!st.isDirectory()) throw new PreopenError(`cannot preopen ${guest}: ${host} is not a directory`);
  }
  const bytes = typeof wasm === 'string' ? await readFile(wasm) : wasm;
  const name = argv0 ?? (typeof wasm === 'string' ? basename(wasm) : 'module.wasm');
  const wasi = await quietly(async () => {
    const { WASI } = await import('node:wasi');
    return new WASI({ version: 'preview1', args: [name, ...args], env, preopens, returnOnExit: true });
  });
  const module = await WebAssembly.compile(bytes);
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  try {
    return wasi.start(instance);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      process.stderr.write(`${name}: wasm trap: ${e.message}\n${e.stack ?? ''}\n`);
      return TRAP_STATUS;
    }
    throw e;
  }
}

/** Parse this script's command line (see the file comment). Returns null on a usage error. */
export function parseArgs(argv, hostEnv = process.env) {
  const preopens = {};
  const env = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const eq = a.indexOf('=');
      if (a.startsWith('--') && eq > 0) return a.slice(eq + 1);
      if (i + 1 >= argv.length) return null;
      return argv[++i];
    };
    const opt = a.startsWith('--') ? a.split('=')[0] : a;
    if (opt === '--dir') {
      const v = value();
      if (!v) return null;
      const sep = v.indexOf('::');
      const host = sep >= 0 ? v.slice(0, sep) : v;
      const guest = sep >= 0 ? v.slice(sep + 2) : v;
      preopens[guest] = resolve(host);
    } else if (opt === '--env') {
      // --env NAME=VALUE: the value may itself contain '='; only the first one splits.
      const v = a.startsWith('--env=') ? a.slice('--env='.length) : i + 1 < argv.length ? argv[++i] : null;
      if (!v) return null;
      const eq = v.indexOf('=');
      if (eq > 0) env[v.slice(0, eq)] = v.slice(eq + 1);
      else if (hostEnv[v] !== undefined) env[v] = hostEnv[v];
    } else if (opt === '--env-prefix') {
      const v = value();
      if (!v) return null;
      for (const [k, val] of Object.entries(hostEnv)) if (k.startsWith(v)) env[k] = val;
    } else if (a === '--help' || a === '-h') {
      return null;
    } else if (a.startsWith('--')) {
      return null;
    } else {
      break;
    }
  }
  if (i >= argv.length) return null;
  const module = argv[i++];
  if (argv[i] === '--') i++;
  return { module, args: argv.slice(i), env, preopens };
}

const USAGE =
  'usage: run.mjs [--dir HOST[::GUEST]]... [--env NAME[=VALUE]]... [--env-prefix PREFIX]... MODULE.wasm [--] [ARGS...]\n';

async function main() {
  const self = fileURLToPath(import.meta.url);
  reexecWithNodeFlags(self, process.argv.slice(2));
  const parsed = parseArgs(process.argv.slice(2));
  if (!parsed) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  try {
    process.exitCode = await runWasi(parsed.module, parsed);
  } catch (e) {
    if (!(e instanceof PreopenError)) throw e;
    process.stderr.write(`run.mjs: ${e.message}\n`);
    process.exitCode = 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`run.mjs: ${e.stack ?? e}\n`);
    process.exit(TRAP_STATUS);
  });
}
