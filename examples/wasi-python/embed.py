#!/usr/bin/env python3
"""embed.py — pagedb embedded in a Python program through WebAssembly: the library built as
a WASI reactor module (build/wasi/libpagedb.wasm, `scripts/build-wasi.sh lib`) run by
wasmtime (PyPI package `wasmtime`). It creates a database, writes a table in one
transaction, reads it back with point lookups and a cursor, verifies every page, and closes.
The host's rules (who allocates what, how long returned bytes live) are in
platform/wasi/lib/pagedb_reactor.h.

Usage: embed.py LIBPAGEDB_WASM DBDIR [CIPHER]
  DBDIR   the database directory (created); its parent is preopened for the module
  CIPHER  none | xchacha20poly1305 | aes256gcm (default xchacha20poly1305)
The key is PAGEDB_KEY (64 hex digits) from the environment. Prints what it did; exit 0 when
every value read back equals what was written and pagedb_verify succeeded, 1 otherwise.
"""
import os
import struct
import sys

import wasmtime

CIPHERS = {"none": 0, "xchacha20poly1305": 1, "aes256gcm": 2}
PAGEDB_CREATE = 0x1
PAGEDB_TXN_RDONLY = 0x1
PAGEDB_TABLE_CREATE = 0x1
PAGEDB_SEEK_FIRST = 3  # pagedb_cursor_seek mode: the first key of the table (key ignored)


class Pagedb:
    """The module instance and little helpers over its linear memory."""

    def __init__(self, wasm_path, preopen):
        engine = wasmtime.Engine()
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        self.store = wasmtime.Store(engine)
        wasi = wasmtime.WasiConfig()
        wasi.inherit_stdout()
        wasi.inherit_stderr()
        wasi.preopen_dir(preopen, preopen)
        self.store.set_wasi(wasi)
        module = wasmtime.Module.from_file(engine, wasm_path)
        self.inst = linker.instantiate(self.store, module)
        self.ex = self.inst.exports(self.store)
        self.mem = self.ex["memory"]
        self.ex["_initialize"](self.store)  # reactor: run the C constructors once

    def call(self, name, *args):
        return self.ex[name](self.store, *args)

    def alloc(self, data):
        """Copy bytes into a fresh malloc'd block; returns its address (free it)."""
        p = self.call("malloc", max(len(data), 1))
        if not p:
            raise MemoryError("malloc in the module failed")
        self.mem.write(self.store, data, p)
        return p

    def cstr(self, s):
        return self.alloc(s.encode() + b"\0")

    def read(self, p, n):
        return bytes(self.mem.read(self.store, p, p + n))

    def u32(self, p):
        return struct.unpack("<I", self.read(p, 4))[0]

    def string(self, p):
        out = bytearray()
        while True:
            chunk = self.read(p + len(out), 64)
            z = chunk.find(b"\0")
            if z >= 0:
                return (out + chunk[:z]).decode()
            out += chunk

    def check(self, rc, what):
        if rc != 0:
            msg = self.string(self.call("pagedb_strerror", rc))
            detail = self.string(self.call("pagedb_errdetail"))
            raise RuntimeError(f"{what}: {msg} ({detail})")


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    wasm, dbdir = argv[0], os.path.abspath(argv[1])
    cipher = CIPHERS[argv[2] if len(argv) == 3 else "xchacha20poly1305"]
    key = bytes.fromhex(os.environ["PAGEDB_KEY"])
    pdb = Pagedb(wasm, os.path.dirname(dbdir))
    rows = {f"fruit-{i:04d}".encode(): (f"value {i} " + "x" * (i % 300)).encode() for i in range(500)}
    rows[b"big"] = bytes(range(256)) * 40  # 10,240 bytes: an overflow value

    slot = pdb.alloc(b"\0" * 8)  # out-parameter slot (u32 handle, or u64, or pagedb_val)
    path, keyp = pdb.cstr(dbdir), pdb.alloc(key)
    pdb.check(pdb.call("pagedb_wasi_open", path, keyp, PAGEDB_CREATE, cipher, 0, slot), "open")
    db = pdb.u32(slot)
    pdb.call("free", keyp)

    # one write transaction
    name = pdb.cstr("fruit")
    pdb.check(pdb.call("pagedb_txn_begin", db, 0, slot), "txn_begin")
    txn = pdb.u32(slot)
    pdb.check(pdb.call("pagedb_table_open", txn, name, 0, PAGEDB_TABLE_CREATE, slot), "table_open")
    table = pdb.u32(slot)
    for k, v in rows.items():
        kp, vp = pdb.alloc(k), pdb.alloc(v)
        pdb.check(pdb.call("pagedb_put", table, kp, len(k), vp, len(v), 0), "put")
        pdb.call("free", kp)
        pdb.call("free", vp)
    pdb.check(pdb.call("pagedb_txn_commit", txn), "commit")

    # read back: point lookups, then a cursor over the whole table
    pdb.check(pdb.call("pagedb_txn_begin", db, PAGEDB_TXN_RDONLY, slot), "read txn")
    txn = pdb.u32(slot)
    pdb.check(pdb.call("pagedb_table_open", txn, name, 0, 0, slot), "table_open (read)")
    table = pdb.u32(slot)
    for k, v in rows.items():
        kp = pdb.alloc(k)
        pdb.check(pdb.call("pagedb_get", table, kp, len(k), slot), f"get {k!r}")
        pdb.call("free", kp)
        data, size = struct.unpack("<II", pdb.read(slot, 8))
        if pdb.read(data, size) != v:
            print(f"embed.py: value of {k!r} differs", file=sys.stderr)
            return 1
    pdb.check(pdb.call("pagedb_cursor_open", table, slot), "cursor_open")
    cur = pdb.u32(slot)
    kv = pdb.alloc(b"\0" * 16)  # two pagedb_val: key, value
    seen = []
    rc = pdb.call("pagedb_cursor_seek", cur, 0, 0, PAGEDB_SEEK_FIRST)
    while rc == 0:
        pdb.check(pdb.call("pagedb_cursor_get", cur, kv, kv + 8), "cursor_get")
        kd, ks, _, _ = struct.unpack("<IIII", pdb.read(kv, 16))
        seen.append(pdb.read(kd, ks))
        rc = pdb.call("pagedb_cursor_next", cur)
    pdb.call("pagedb_cursor_close", cur)
    pdb.call("pagedb_txn_abort", txn)
    if seen != sorted(rows):
        print(f"embed.py: cursor saw {len(seen)} keys, wanted {len(rows)} in order", file=sys.stderr)
        return 1

    pdb.check(pdb.call("pagedb_verify", db, slot), "verify")
    pages = struct.unpack("<Q", pdb.read(slot, 8))[0]
    pdb.check(pdb.call("pagedb_close", db), "close")
    print(f"embed.py: {len(rows)} keys written, read back and scanned in order; "
          f"verify: {pages} pages ok ({dbdir}, cipher {argv[2] if len(argv) == 3 else 'xchacha20poly1305'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
