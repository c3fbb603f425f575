#!/usr/bin/env python3
"""run_wasmtime.py — run a WASI preview 1 command module (pagedb.wasm, the
build/wasi/tests/*.wasm test programs) under wasmtime, through the `wasmtime` package from
PyPI (it bundles the runtime as a shared library; scripts/wasi-runtimes.sh installs it into a
venv under ~/.cache/pagedb). A standalone runtime that is not V8: the WASI suite runs under it
as under node:wasi (scripts/test-wasi.sh).

Command line (the same as js/wasi/run.mjs, so the two are interchangeable):
  run_wasmtime.py [OPTIONS] MODULE.wasm [--] [ARGS...]
    --dir HOST[::GUEST]  preopen host directory HOST as GUEST (default: HOST as written);
                         repeatable
    --env NAME=VALUE     set a variable in the module's environment; `--env NAME` copies the
                         host's value if it has one; repeatable
    --env-prefix PREFIX  copy every host variable whose name starts with PREFIX
  The module sees argv[0] = the module's file name, then ARGS; stdin, stdout and stderr are
  this process's. Exit status: the module's exit code; 134 when it traps (the trap is
  printed to stderr); 2 for a usage error (including a --dir that is not a directory).
"""
import os
import sys

import wasmtime

TRAP_STATUS = 134


def usage(msg):
    sys.stderr.write(f"run_wasmtime.py: {msg}\n"
                     "usage: run_wasmtime.py [--dir HOST[::GUEST]]... [--env NAME[=VALUE]]... "
                     "[--env-prefix PREFIX]... MODULE.wasm [--] [ARGS...]\n")
    sys.exit(2)


def main(argv):
    dirs, env = [], {}
    i = 0
    while i < len(argv) and argv[i].startswith("--") and argv[i] != "--":
        opt = argv[i]
        if i + 1 >= len(argv):
            usage(f"{opt} needs a value")
        val = argv[i + 1]
        i += 2
        if opt == "--dir":
            host, _, guest = val.partition("::")
            if not os.path.isdir(host):
                usage(f"--dir {host}: not a directory")
            dirs.append((host, guest or host))
        elif opt == "--env":
            name, eq, value = val.partition("=")
            if eq:
                env[name] = value
            elif name in os.environ:
                env[name] = os.environ[name]
        elif opt == "--env-prefix":
            env.update({k: v for k, v in os.environ.items() if k.startswith(val)})
        else:
            usage(f"unknown option {opt}")
    if i < len(argv) and argv[i] == "--":
        i += 1
    if i >= len(argv):
        usage("no module given")
    module_path, args = argv[i], argv[i + 1:]
    if i + 1 < len(argv) and argv[i + 1] == "--":
        args = argv[i + 2:]

    config = wasmtime.Config()
    try:
        config.cache = True  # compiled code cached by wasmtime (~/.cache/wasmtime)
    except wasmtime.WasmtimeError as e:
        sys.stderr.write(f"run_wasmtime.py: compilation cache unavailable ({e}); compiling\n")
    engine = wasmtime.Engine(config)
    module = wasmtime.Module.from_file(engine, module_path)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [os.path.basename(module_path)] + args
    wasi.env = list(env.items())
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    for host, guest in dirs:
        wasi.preopen_dir(host, guest)
    store.set_wasi(wasi)
    instance = linker.instantiate(store, module)
    start = instance.exports(store)["_start"]
    try:
        start(store)
    except wasmtime.ExitTrap as e:
        return e.code
    except wasmtime.Trap as e:
        sys.stdout.flush()
        sys.stderr.write(f"run_wasmtime.py: {os.path.basename(module_path)} trapped: {e}\n")
        return TRAP_STATUS
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
