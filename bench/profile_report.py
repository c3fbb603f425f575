#!/usr/bin/env python3
"""profile_report.py — summarises the profiles scripts/profile.sh writes (callgrind dumps of
pagedb_profile's measured loop, strace -T logs of its commits, native timings) as Markdown.

Usage: profile_report.py OUTDIR
  OUTDIR holds, per ENGINE (pagedb-xchacha, lmdb) and OP (get, commit):
    cg.ENGINE.OP.1        callgrind dump of exactly COUNT operations (CALLGRIND_DUMP_STATS_AT)
    ENGINE.OP.count       COUNT
    ENGINE.OP.native      pagedb_profile's stdout lines of the native (untraced) runs
    ENGINE.commit.nosync  the same for commits run with --sync off (no device flushes)
    st.ENGINE.commit      strace -f -T log of a commit run (lines between PROFILE-BEGIN/END)
    ENGINE.commit.count   number of commits in the strace run (st.ENGINE.commit.count)

Cost attribution: every function of the driver's call tree (everything but main and the
workload generator) gets its exclusive cost; a call from a pagedb/driver function into a
library (libc, libsodium, liblmdb) is charged inclusively to a group chosen by the
(caller, callee) pair, so e.g. memcmp called by branch_search counts as "B+ tree search" and
memcmp called by sodium_memcmp counts with the tag check that called sodium_memcmp.
"""
import collections
import os
import re
import statistics
import sys

OWN_OBJ = "pagedb_profile"
WORKLOAD = {"main", "wl_key", "wl_val", "wl_pick", "wl_splitmix", "(below main)", "marker", "cpu_s", "now_s"}


def parse_callgrind(path):
    """Returns (events, self_cost{fn: [..]}, edges{(fn, cfn): [..]}, calls{(fn, cfn): n}, obj{fn: ob})."""
    names = {"fn": {}, "ob": {}}
    events = []
    self_cost = collections.defaultdict(lambda: None)
    edges = {}
    calls = collections.Counter()
    obj = {}
    fn = cfn = None
    ob = cob = None
    pending_call = None

    def name(kind, s):
        m = re.match(r"\((\d+)\)(?: (.*))?$", s)
        if not m:
            return s
        if m.group(2) is not None:
            names[kind][m.group(1)] = m.group(2)
        return names[kind].get(m.group(1), s)

    def add(d, k, v):
        if d.get(k) is None:
            d[k] = list(v)
        else:
            d[k] = [a + b for a, b in zip(d[k], v)]

    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("ob="):
                ob = name("ob", line[3:])
            elif line.startswith("cob="):
                cob = name("ob", line[4:])
            elif line.startswith("fn="):
                fn = name("fn", line[3:])
                obj[fn] = ob
                cob = None
            elif line.startswith("cfn="):
                cfn = name("fn", line[4:])
            elif line.startswith("calls="):
                pending_call = int(line[6:].split()[0])
            elif line and (line[0].isdigit() or line[0] in "+-*"):
                parts = line.split()
                vals = [int(x) for x in parts[1:]]
                vals += [0] * (len(events) - len(vals))
                if pending_call is not None:
                    add(edges, (fn, cfn), vals)
                    calls[(fn, cfn)] += pending_call
                    if cfn not in obj and cob:
                        obj[cfn] = cob
                    pending_call = None
                else:
                    add(self_cost, fn, vals)
            # fl=, fi=, fe=, cfi=, cfl=, jump lines etc. are ignored
    return events, dict(self_cost), edges, calls, obj


def own(fn, obj):
    return OWN_OBJ in (obj.get(fn) or "")


def short(fn):
    return fn.split("'")[0]


# ---- grouping rules: (caller, callee-or-None) -> group label
GET_GROUPS = [
    ("page lookup: buffer pool hash + CLOCK-Pro + pager mutex + pin/unpin",
     r"^(pdb_pager_get|pdb_pager_unpin|pdb_cache_\w+|get_page|pthread_mutex_\w+|__pthread_mutex_\w+)$"),
    ("page lookup: parent's child tag compared with the cached page's tag (sodium_memcmp)",
     r"^(pdb_tag_cmp|sodium_memcmp)$"),
    ("B+ tree search + cell parse (branch/leaf binary search, key memcmp)",
     r"^(branch_search|leaf_search|pdb_bt_get|pdb_bt_max_key|node_\w+|cell_\w+|\w*parse\w*)$"),
    ("AEAD open (page decrypt on a miss)", r"^(pdb_page_open|crypto_aead\w*decrypt\w*|stage_open)$"),
    ("value copy (memcpy into the txn's value buffer)", r"^(memcpy|__memcpy\w*|memmove|__memmove\w*)$"),
    ("API + txn checks (pagedb_get, driver)", r".*"),
]

COMMIT_GROUPS = [
    ("txn begin + table open (catalog lookup)",
     r"^(pagedb_txn_begin|pagedb_table_open|call_table_open|pdb_wbegin|pdb_cat_\w+|catalog_\w+|table_\w+)$"),
    ("B+ tree put: CoW path (touch/alloc pages, copy, insert)",
     r"^(pagedb_put|pdb_bt_put|pdb_pager_touch|pdb_pager_alloc|pdb_put|leaf_\w+|branch_\w+|node_\w+|get_page|pdb_pager_get|pdb_pager_unpin)$"),
    ("page seal: XChaCha20-Poly1305 encrypt + nonce", r"^(pdb_page_seal|crypto_aead\w+|crypto_core_hchacha20|pdb_rng_bytes|randombytes\w*|stage_seal)$"),
    ("zeroing: sodium_memzero / memset of page buffers", r"^(sodium_memzero|__explicit_bzero_chk|explicit_bzero|memset|__memset\w*)$"),
    ("flush: collect dirty pages, tags into parents, write runs",
     r"^(pdb_bt_flush|flush_collect|pdb_pager_flush\w*|pdb_pager_write_run|seal_write|pdb_pager_owned\w*|pdb_pgmap_\w+)$"),
    ("freelist write", r"^(pdb_pager_write_freelist|freelist_\w+|pdb_freelist\w*)$"),
    ("header encode + MAC", r"^(pdb_header_\w+|header_\w+|crypto_generichash\w*|crypto_auth\w*)$"),
    ("VFS: pwrite/fdatasync/fadvise/fcntl wrappers, reader-slot scan",
     r"^(posix_\w+|vfs_\w+|pwrite\w*|__libc_pwrite\w*|fdatasync|posix_fadvise\w*|fcntl\w*|__fcntl\w*|fstat\w*|__fstat\w*|"
     r"pdb_vfs_\w+|syscall)$"),
    ("txn end: free tree context, discard cache entries, malloc/free",
     r"^(txn_free|pdb_btctx_free|pdb_cache_discard|free|malloc|calloc|realloc|posix_memalign|_int_\w+|cfree)$"),
    ("other (commit bookkeeping, locks, memcpy)", r".*"),
]


def attribute(events, self_cost, edges, obj, groups, roots):
    """Charges the cost under roots (driver functions) to groups. Returns {group: [costs]}."""
    # reachable own functions from the roots
    own_fns = set()
    stack = list(roots)
    out_edges = collections.defaultdict(list)
    for (a, b) in edges:
        out_edges[a].append(b)
    while stack:
        f = stack.pop()
        if f in own_fns:
            continue
        own_fns.add(f)
        for g in out_edges[f]:
            if own(g, obj) and short(g) not in WORKLOAD:
                stack.append(g)
    res = collections.OrderedDict((g, [0] * len(events)) for g, _ in groups)

    def group_of(*cands):
        for c in cands:
            for g, rx in groups[:-1]:
                if re.match(rx, short(c)):
                    return g
        return groups[-1][0]

    for f in own_fns:
        sc = self_cost.get(f)
        if sc:
            g = group_of(f)
            res[g] = [a + b for a, b in zip(res[g], sc)]
        for g2 in out_edges[f]:
            if g2 in own_fns or (own(g2, obj) and short(g2) in WORKLOAD):
                continue
            # a library call: charge by the callee's group if it has one, else the caller's
            g = group_of(g2, f)
            if re.match(r"^(memcmp|__memcmp\w*)$", short(g2)):
                g = group_of(f)
            c = edges[(f, g2)]
            res[g] = [a + b for a, b in zip(res[g], c)]
    return res


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def latency_lines(path):
    """Parses pagedb_profile's commit latency lines: list of (median, p10, p90) µs per run."""
    out = []
    for line in read(path).splitlines():
        m = re.search(r"commit latency: median ([\d.]+) us, p10 ([\d.]+) us, p90 ([\d.]+) us", line)
        if m:
            out.append(tuple(float(x) for x in m.groups()))
    return out


def native_lines(path):
    """Parses pagedb_profile lines: returns lists of (us/op, user us/op, sys us/op)."""
    out = []
    for line in read(path).splitlines():
        m = re.search(r": ([\d.]+) us/op .*cpu user ([\d.]+) us/op, sys ([\d.]+) us/op", line)
        if m:
            out.append(tuple(float(x) for x in m.groups()))
    return out


def strace_summary(path, n):
    """Per syscall class between PROFILE-BEGIN and PROFILE-END: count, total and per-call times.
    pwrite64 to a descriptor opened O_DSYNC (LMDB's meta page) is its own class, since that write
    is a device flush; pwrite64 of a pagedb header slot (bytes start "\\211PGDB") too."""
    on = False
    dsync_fds = set()
    cls = collections.defaultdict(list)
    byt = collections.Counter()
    sync_seq = []  # per commit: the list of durations of its sync points, in order
    cur = []
    for l in read(path).splitlines():
        m = re.match(r"(?:\d+\s+)?openat\(.*O_DSYNC.*\)\s+=\s+(\d+)", l)
        if m:
            dsync_fds.add(m.group(1))
        if "PROFILE-BEGIN" in l:
            on = True
            continue
        if "PROFILE-END" in l:
            break
        if not on:
            continue
        m = re.match(r"(?:\d+\s+)?(\w+)\((\d*)(.*)\)\s+=\s+(-?\d+)?.*<([\d.]+)>", l)
        if not m:
            continue
        nm, fd, rest, ret, t = m.group(1), m.group(2), m.group(3), m.group(4), float(m.group(5))
        if nm == "pwrite64" and fd in dsync_fds:
            nm = "pwrite64 to the O_DSYNC descriptor (meta page: a device flush)"
        elif nm == "pwrite64" and rest.startswith(', "\\211PGDB'):
            nm = "pwrite64 of the header slot"
        elif nm == "pwrite64":
            nm = "pwrite64 of pages"
        cls[nm].append(t)
        if nm.startswith("pwrite") or nm in ("writev", "pwritev"):
            byt[nm] += int(ret or 0)
        if nm in ("fdatasync", "fsync") or "O_DSYNC" in nm:
            cur.append(t)
            if nm.startswith("pwrite64 to the O_DSYNC") or len(cur) == 2 and "O_DSYNC" not in nm and not dsync_fds:
                sync_seq.append(cur)
                cur = []
    return cls, byt, sync_seq


def fmt_group_table(res, events, count, total_native_us=None, extra_cols=()):
    idx = {e: i for i, e in enumerate(events)}
    tot = [sum(v[i] for v in res.values()) for i in range(len(events))]
    hdr = "| where | Ir/op | share |"
    sep = "|---|---:|---:|"
    if total_native_us:
        hdr += " ≈ µs/op (share × native CPU) |"
        sep += "---:|"
    for e in extra_cols:
        if e in idx:
            hdr += f" {e}/op |"
            sep += "---:|"
    lines = [hdr, sep]
    for g, v in list(res.items()) + [("**total**", tot)]:
        ir = v[0]
        if ir == 0 and g != "**total**":
            continue
        row = f"| {g} | {ir / count:,.0f} | {100.0 * ir / tot[0]:.1f} % |"
        if total_native_us:
            row += f" {total_native_us * ir / tot[0]:.3f} |"
        for e in extra_cols:
            if e in idx:
                row += f" {v[idx[e]] / count:.2f} |"
        lines.append(row)
    return "\n".join(lines), tot


def main():
    d = sys.argv[1]
    out = []
    P = print
    for op in ("get", "commit"):
        for eng in ("pagedb-xchacha", "lmdb"):
            cg = os.path.join(d, f"cg.{eng}.{op}.1")
            if not os.path.exists(cg):
                P(f"(missing {cg})")
                continue
            count = int(read(os.path.join(d, f"{eng}.{op}.count"), "1").strip())
            events, sc, ed, calls, obj = parse_callgrind(cg)
            if eng.startswith("pagedb"):
                roots = ["pdb_get"] if op == "get" else ["pdb_wbegin", "pdb_put", "pdb_wcommit"]
            else:
                roots = ["lmdb_get"] if op == "get" else ["lmdb_wbegin", "lmdb_put", "lmdb_wcommit"]
            if eng == "lmdb":
                groups = [
                    ("LMDB B+ tree descent + node search (liblmdb.so, static symbols stripped)", r"^(?!mdb_txn_commit).*$"),
                    ("key memcmp", r"^(memcmp|__memcmp\w*)$"),
                ]
                if op == "commit":
                    groups = [("LMDB mdb_txn_commit (page writes + syncs; syscalls not counted)", r"^mdb_txn_commit$"),
                              ("LMDB txn begin + put (liblmdb.so)", r"^mdb_(txn_begin|put)$"),
                              ("other", r".*")]
                else:
                    groups = [("mdb_get: B+ tree descent + node search + key compare (liblmdb.so, stripped)",
                               r"^mdb_get$"), ("driver", r".*")]
            else:
                groups = GET_GROUPS if op == "get" else COMMIT_GROUPS
            res = attribute(events, sc, ed, obj, groups, roots)
            nat = native_lines(os.path.join(d, f"{eng}.{op}.native"))
            med = lambda i: statistics.median(x[i] for x in nat) if nat else None
            wall, usr, sy = med(0), med(1), med(2)
            P(f"### {op}: {eng}  ({count} ops in the callgrind dump)\n")
            if nat:
                P(f"native, untraced ({len(nat)} runs): best {min(x[0] for x in nat):.2f} µs/op wall, median "
                  f"**{wall:.2f} µs/op** wall, "
                  f"{usr:.2f} µs user CPU, {sy:.2f} µs system CPU per op "
                  f"(runs: {', '.join(f'{x[0]:.2f}' for x in nat)} µs)\n")
            lat = latency_lines(os.path.join(d, f"{eng}.{op}.native"))
            if lat:
                P(f"per-commit latency over {len(lat)} runs (median of the runs' values): "
                  f"**p10 {statistics.median(x[1] for x in lat):.0f} µs** (best run's p10 "
                  f"{min(x[1] for x in lat):.0f} µs: the quiet-disk cost), "
                  f"median {statistics.median(x[0] for x in lat):.0f} µs, p90 {statistics.median(x[2] for x in lat):.0f} µs; "
                  f"runs' p10/median: {', '.join(f'{x[1]:.0f}/{x[0]:.0f}' for x in lat)} µs\n")
            ns = latency_lines(os.path.join(d, f"{eng}.{op}.nosync"))
            if ns:
                P(f"the same commits without syncs (`--sync off`: PAGEDB_NOSYNC / MDB_NOSYNC, {len(ns)} runs of 1,000): "
                  f"median **{statistics.median(x[0] for x in ns):.1f} µs**, p10 {statistics.median(x[1] for x in ns):.1f} µs, "
                  f"p90 {statistics.median(x[2] for x in ns):.1f} µs per commit\n")
            tab, tot = fmt_group_table(res, events, count, usr if op == "commit" and nat else wall,
                                       extra_cols=("D1mr", "DLmr"))
            P(tab + "\n")
            if op == "commit":
                stp = os.path.join(d, f"st.{eng}.commit")
                sn = int(read(stp + ".count", "0").strip() or 0)
                if sn:
                    cls, byt, seq = strace_summary(stp, sn)
                    P(f"syscalls per commit (strace -f -T, {sn} commits; the tracer adds a few µs per call):\n")
                    P("| syscall | calls/commit | median µs/call | mean µs/commit | bytes/commit |")
                    P("|---|---:|---:|---:|---:|")
                    for k, v in sorted(cls.items(), key=lambda kv: -sum(kv[1])):
                        P(f"| {k} | {len(v) / sn:.2f} | {statistics.median(v) * 1e6:.0f} | {sum(v) / sn * 1e6:.0f} | "
                          f"{byt[k] / sn:,.0f} |")
                    full = [x for x in seq if len(x) == 2]
                    if full:
                        a = [x[0] for x in full]
                        b = [x[1] for x in full]
                        both = sorted(x[0] + x[1] for x in full)
                        P(f"\ndevice flushes: 2 per commit; median first (pages) {statistics.median(a) * 1e6:.0f} µs, "
                          f"second (header/meta) {statistics.median(b) * 1e6:.0f} µs, both together: median "
                          f"{statistics.median(both) * 1e6:.0f} µs, p90 {both[int(0.9 * (len(both) - 1))] * 1e6:.0f} µs "
                          f"over {len(full)} commits")
                    P("")
    return 0


if __name__ == "__main__":
    sys.exit(main())
