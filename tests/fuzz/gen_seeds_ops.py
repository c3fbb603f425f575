#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_ops (tests/fuzz/corpus/fuzz_ops/) — a few op programs in
the input format decoded by fuzz_ops.c (config byte, then one opcode and its argument
bytes per operation). Run from the repository root; the outputs are committed."""
import os, random

OUT = os.path.join(os.path.dirname(__file__), "corpus", "fuzz_ops")

def cfg(ps, cipher, frames):
    return bytes([(ps + 3 * cipher) | (frames << 4)])

def put(t, k0, k1, v0, v1, mode=0):
    return bytes([0 if mode == 0 else (3 | (0x80 if mode == 2 else 0)), t, k0, k1, v0, v1])
def get(t, k0, k1): return bytes([4, t, k0, k1])
def dele(t, k0, k1): return bytes([6, t, k0, k1])
def cas(t, how, k0, k1, e0, e1, n0, n1): return bytes([7, t, how, k0, k1, e0, e1, n0, n1])
def copy(t, a0, a1, b0, b1): return bytes([8, t, a0, a1, b0, b1])
def cursor(t, mode, steps, k0, k1): return bytes([9, t, mode, steps, k0, k1])
def scan(t, fl, f0, f1, t0, t1, pk): return bytes([10, t, fl, f0, f1, t0, t1, pk])
def tcreate(t, realm_byte=0): return bytes([11, t, realm_byte])
def tdrop(t): return bytes([12, t])
def tlist(): return bytes([13])
def rcreate(r): return bytes([14, r])
def rdrop(b): return bytes([15, b])
def commit(): return bytes([16])
def abort(): return bytes([17])
def reopen(): return bytes([17 | 0x80])
def reader(b): return bytes([18, b])

def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)

os.makedirs(OUT, exist_ok=True)
rnd = random.Random(16)

# 1: 4 KiB pages, MAC, 64 frames: two tables, mixed value classes, cursors, scans, reopen
s = cfg(0, 0, 0) + tcreate(0) + tcreate(1)
for i in range(40):
    s += put(i % 2, rnd.choice([0x08, 0x10, 0x21, 0x3b, 0x04, 0x07]), rnd.randrange(256),
             rnd.choice([0x01, 0x02, 0x05, 0x06, 0x0b, 0x03, 0x04]), rnd.randrange(256))
s += commit() + cursor(0, 3, 0x5b, 0, 0) + cursor(1, 0, 0x33, 0x10, 0x55) + scan(0, 0x07, 0x10, 1, 0x18, 2, 1)
s += dele(0, 0x10, 0x55) + cas(1, 1, 0x10, 0x40, 0, 0, 0x01, 9) + copy(0, 0x08, 3, 0x10, 4) + commit() + reopen()
write("seed_4k_mac", s)

# 2: 16 KiB pages, XChaCha20-Poly1305: realms, tables in realms, a held snapshot
s = cfg(1, 1, 1) + rcreate(0) + rcreate(1) + tcreate(0, 1) + tcreate(2, 3) + tcreate(4)
for i in range(30):
    s += put(rnd.choice([0, 2, 4]), rnd.choice([0x07, 0x0c, 0x25, 0x2e]), rnd.randrange(256),
             rnd.choice([0x00, 0x02, 0x03, 0x06]), rnd.randrange(256))
s += commit() + reader(0)
for i in range(10):
    s += put(0, 0x10 + i, i, 0x05, i)
s += commit() + reader(0) + bytes([19 | 0x80, 0, 3, 0x11, 0, 0]) + rdrop(1) + commit() + reader(1) + tlist() + reopen()
write("seed_16k_xchacha_realms", s)

# 3: 64 KiB pages, AES-256-GCM (XChaCha20 where unavailable): overflow values, CAS, APPEND
s = cfg(2, 2, 0) + tcreate(3)
for i in range(12):
    s += put(3, 0x08 | (i << 3), i * 17, rnd.choice([0x03, 0x04, 0x0c, 0x02]), i)
s += put(3, 0x2c, 0xff, 0x01, 1, mode=2) + put(3, 0x00, 0, 0x01, 1, mode=2)
s += cas(3, 0, 0x09, 0x02, 0, 0, 0x04, 7) + cas(3, 1, 0x10, 17, 0, 0, 0x00, 0) + cas(3, 5, 0x10, 17, 0, 0, 0, 0)
s += commit() + scan(3, 0x08, 0, 0, 0, 0, 0) + abort() + tdrop(3) + commit() + reopen()
write("seed_64k_aes_overflow", s)

# 4: 4 KiB pages, XChaCha20, 64 frames: many small puts (splits, spills), deletes (merges)
s = cfg(0, 1, 0) + tcreate(1)
for i in range(120):
    s += put(1, 0x04 | ((i % 32) << 3), i, 0x07, i)
s += commit()
for i in range(0, 120, 2):
    s += dele(1, 0x04 | ((i % 32) << 3), i)
s += commit() + cursor(1, 4, 0xaa, 0, 0) + reopen()
write("seed_4k_splits", s)

# 5: keys around the maximum and the inline limit (4 KiB pages)
s = cfg(0, 0, 1) + tcreate(0)
for x in range(8):
    s += put(0, 0x05 | (x << 3), 0x55, 0x02, x) + put(0, 0x06 | (x << 3), 0xaa, 0x02 | (x << 3), x)
s += commit() + cursor(0, 0, 0x0f, 0x05, 0x55) + get(0, 0x2d, 0x55) + reopen()
write("seed_4k_long_keys", s)
