#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_file (tests/fuzz/corpus/fuzz_file/): byte 0 = variant
(0 MAC, 1 XChaCha20-Poly1305, 2 AES-256-GCM, 3 passphrase) | 4 sealed mode | 8 read-only
| 16 write after open; then patches sel(1) offset(2, LE) len(1) bytes (see fuzz_file.c).
Page map of the seed main.pdb (4096-byte pages): 0-1 headers, 2 catalog leaf, 3 and 15
freelist, 4-7 overflow, 8/10/12-14 leaves, 9/11 branches. Run from anywhere; the outputs
are committed."""
import os, struct

OUT = os.path.join(os.path.dirname(__file__), "corpus", "fuzz_file")
os.makedirs(OUT, exist_ok=True)

def patch(sel, off, data):
    return bytes([sel]) + struct.pack("<H", off) + bytes([len(data)]) + data

def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)

for var in range(4):
    write(f"v{var}_clean", bytes([var]))
    write(f"v{var}_clean_write", bytes([var | 16]))
# raw: cleartext header fields (page size, cipher, Argon2 cost, txn id), page kind, truncation
write("raw_hdr_pagesize", bytes([1]) + patch(0, 12, struct.pack("<I", 8192)))
write("raw_hdr_cipher", bytes([0]) + patch(1, 16, b"\x02"))
write("raw_pass_ops", bytes([3]) + patch(0, 56, struct.pack("<Q", 2)))
write("raw_page_kind", bytes([1]) + patch(9, 0, b"\x03"))
write("raw_truncate", bytes([17]) + patch(12, 100, b""))
write("raw_seg_tail", bytes([1]) + patch(0x83, 0, b"\x06\x01\x00\x00"))
# sealed: structures behind valid tags (offsets are page offsets: 0..24 the page header's
# labels, 64.. the body)
def spatch(sel, off, data):
    return patch(sel, 64 + off, data)
write("sealed_node_count", bytes([4 | 1]) + spatch(8, 0, b"\xff\x00"))
# upper = 0 in a leaf node crashes node_insert (issue 16 item 10): tests/fuzz/crashes/fuzz_file-item10-node-upper-zero
write("sealed_branch_child", bytes([4 | 0]) + spatch(9, 8, struct.pack("<H", 4090)))
write("sealed_catalog_leaf", bytes([4 | 2]) + spatch(2, 4040, b"\xff\xff\xff\x7f"))
write("sealed_freelist", bytes([4 | 1 | 16]) + spatch(3, 24, struct.pack("<I", 200)))
write("sealed_hdr_pagecount", bytes([4 | 1 | 8]) + patch(0, 200, struct.pack("<Q", 1 << 62)))
write("sealed_seg_count", bytes([4 | 1]) + spatch(0x80, 0, struct.pack("<I", 5000)))
write("sealed_leaf_kind", bytes([4 | 1]) + patch(12, 0, b"\x02"))
write("sealed_seg_footer", bytes([4 | 0]) + spatch(0xc2, 8, struct.pack("<Q", 9)))
