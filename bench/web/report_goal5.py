#!/usr/bin/env python3
"""report_goal5.py — issue 14's goal 5 in the browser (scripts/bench-web.sh --goal5): from runs of
bench/web/run.mjs with the engines pagedb-promise-worker, sqlite-wasm, pagedb-worker,
pagedb-promise, sqlite-promiser, indexeddb, hop-baseline, profile-promise-page and
profile-promise-worker, writes three tables of ratios (medians over the runs, with their range)
and the per-call latency with where it goes:
  (a) in a dedicated worker: pagedb's promise API (engine in that worker) ÷ sqlite-wasm
      (opfs-sahpool, worker), every phase and the awaited get/range (goal ≥ 2×);
  (b) from the page: pagedb's promise API ÷ sqlite-wasm's worker promiser on every phase
      (goal ≥ 1×) and ÷ IndexedDB (strict) on gets and ranges awaited one at a time (goal ≥ 10×);
  (c) µs per awaited get in every setting, the floors (postMessage round trip, resolved
      promise), the in-worker replay breakdown and the CPU profile's top functions per thread.

Usage: python3 bench/web/report_goal5.py --in RUN1.json[,RUN2.json,...] --out web-goal5.json
                                         --md web-goal5.md [--commit C] [--load "l1 l2 ..."]
"""
import json
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from report import PHASES, fmt_ops, mib  # noqa: E402
from report_tabs import arg, median, ops  # noqa: E402

LABELS = {"pagedb-promise-worker": "pagedb promise API in a dedicated worker (engine in that worker)",
          "sqlite-wasm": "sqlite-wasm opfs-sahpool in a worker (sync API)",
          "pagedb-worker": "pagedb sync API in a worker",
          "pagedb-promise": "pagedb promise API from the page (engine in its worker)",
          "sqlite-promiser": "sqlite-wasm worker promiser from the page (opfs-sahpool)",
          "indexeddb": "IndexedDB from the page (strict durability)"}


def res(d, e):
    return d["results"].get(e) or {}


def us_get(d, e):
    return (res(d, e).get("awaitedGet") or {}).get("usPerGet")


def us_range(d, e):
    return (res(d, e).get("awaitedRange") or {}).get("usPerRange")


def per_run(runs, f):
    return [x for x in (f(d) for d in runs) if x]


def cell(rs, goal=None):
    """Median of per-run ratios with the range, and whether the median meets goal."""
    if not rs:
        return "—", None
    m = median(rs)
    txt = f"{m:.2f}×" if len(rs) == 1 else f"{m:.2f}× ({min(rs):.2f}–{max(rs):.2f})"
    return txt, (None if goal is None else m >= goal)


def yes(ok):
    return "—" if ok is None else ("**yes**" if ok else "**no**")


def us(x):
    return "—" if x is None else f"{x:.1f} µs"


def phase_ratio(runs, a, b, key):
    return per_run(runs, lambda d: (ops(d, a, key) / ops(d, b, key)) if ops(d, a, key) and ops(d, b, key) else None)


def lat_ratio(runs, f, ours, peer):
    # lower is better: peer's µs ÷ ours
    return per_run(runs, lambda d: (f(d, peer) / f(d, ours)) if f(d, peer) and f(d, ours) else None)


def main():
    runs = [json.load(open(p)) for p in arg("in").split(",")]
    doc = {k: v for k, v in runs[0].items() if k != "results"}
    doc["commit"] = arg("commit", "unknown")
    doc["load"] = arg("load")
    doc["runs"] = runs
    wl = doc["workload"]
    counts = {"bulk_load": wl["n"], "individual_writes": wl["individual"],
              "batch_writes": wl["batches"] * wl["batchSize"], "random_reads": wl["n"],
              "random_ranges": wl["ranges"], "removals": wl["n"] // 2}
    summary = {"a": {}, "b_promiser": {}, "b_idb": {}}
    med = lambda f: median(per_run(runs, f))  # noqa: E731
    n_get = (res(runs[0], "pagedb-promise-worker").get("awaitedGet") or {}).get("ops", "?")
    n_rng = (res(runs[0], "pagedb-promise-worker").get("awaitedRange") or {}).get("ops", "?")
    out = [f"### Goal 5 in the browser ({wl['n']:,} entries, {doc['browser']})", ""]

    # (a) in a dedicated worker
    A, S, W = "pagedb-promise-worker", "sqlite-wasm", "pagedb-worker"
    out += ["#### (a) In a dedicated worker: pagedb's promise API (engine in that worker) vs sqlite-wasm opfs-sahpool (goal: every phase ≥ 2×)", ""]
    out.append(f"| phase | {LABELS[A]} | {LABELS[S]} | {LABELS[W]} | promise API in worker ÷ sqlite-wasm | ≥ 2×? |")
    out.append("|---|---|---|---|---|---|")
    for key, label in PHASES:
        txt, ok = cell(phase_ratio(runs, A, S, key), 2.0)
        summary["a"][key] = median(phase_ratio(runs, A, S, key))
        out.append(f"| {label} ({counts[key]:,}), ops/s | " + " | ".join(fmt_ops(med(lambda d, e=e: ops(d, e, key))) for e in (A, S, W))
                   + f" | {txt} | {yes(ok)} |")
    for what, f, n in (("get", us_get, n_get), ("range of 10", us_range, n_rng)):
        txt, ok = cell(lat_ratio(runs, f, A, S), 2.0)
        summary["a"][f"awaited_{what.split()[0]}"] = median(lat_ratio(runs, f, A, S))
        out.append(f"| awaited {what} (µs, {n} one at a time; lower is better) | "
                   + " | ".join(us(med(lambda d, e=e: f(d, e)))for e in (A, S, W)) + f" | {txt} | {yes(ok)} |")
    out.append("")

    # (b) from the page
    P, Q, I = "pagedb-promise", "sqlite-promiser", "indexeddb"
    out += ["#### (b) From the page (main thread): pagedb's promise API vs sqlite-wasm's worker promiser (goal: every phase ≥ 1×) and vs IndexedDB awaited one at a time (goal ≥ 10×)", ""]
    out.append(f"| phase | {LABELS[P]} | {LABELS[Q]} | {LABELS[I]} | pagedb ÷ promiser | ≥ 1×? | pagedb ÷ IndexedDB | ≥ 10×? |")
    out.append("|---|---|---|---|---|---|---|---|")
    for key, label in PHASES:
        tq, okq = cell(phase_ratio(runs, P, Q, key), 1.0)
        ti, _ = cell(phase_ratio(runs, P, I, key))
        summary["b_promiser"][key] = median(phase_ratio(runs, P, Q, key))
        out.append(f"| {label} ({counts[key]:,}), ops/s | " + " | ".join(fmt_ops(med(lambda d, e=e: ops(d, e, key))) for e in (P, Q, I))
                   + f" | {tq} | {yes(okq)} | {ti} | |")
    for what, f, n in (("get", us_get, n_get), ("range of 10", us_range, n_rng)):
        tq, okq = cell(lat_ratio(runs, f, P, Q), 1.0)
        ti, oki = cell(lat_ratio(runs, f, P, I), 10.0)
        summary["b_promiser"][f"awaited_{what.split()[0]}"] = median(lat_ratio(runs, f, P, Q))
        summary["b_idb"][f"awaited_{what.split()[0]}"] = median(lat_ratio(runs, f, P, I))
        out.append(f"| awaited {what} (µs, {n} one at a time; lower is better) | "
                   + " | ".join(us(med(lambda d, e=e: f(d, e))) for e in (P, Q, I)) + f" | {tq} | {yes(okq)} | {ti} | {yes(oki)} |")
    out.append("")
    sizes = {e: med(lambda d, e=e: res(d, e).get("fileBytes")) for e in (A, S, P, Q, I)}
    out.append("File sizes after the workload: " + "; ".join(f"{LABELS[e].split(' (')[0]} {mib(sizes[e])}" for e in (A, S, P, Q, I)) + ".")
    out.append("")

    # (c) latency
    out += ["#### (c) µs per awaited get, and where it goes", ""]
    out.append("| setting | µs per awaited get (median; range) |")
    out.append("|---|---|")
    for e in (W, A, S, P, Q, I):
        xs = per_run(runs, lambda d, e=e: us_get(d, e))
        out.append(f"| {LABELS[e]} | {us(median(xs))}" + (f" ({min(xs):.1f}–{max(xs):.1f})" if len(xs) > 1 else "") + " |")
    hb = lambda k: med(lambda d: res(d, "hop-baseline").get(k))  # noqa: E731
    out.append(f"| floor: one postMessage round trip page ↔ echo worker (a get-sized object) | {us(hb('postMessageRoundTripUs'))} |")
    out.append(f"| floor: one awaited already-resolved promise | {hb('resolvedPromiseUs') or 0:.2f} µs |")
    out.append("")
    bd = lambda e, k: med(lambda d: (res(d, e).get("breakdown") or {}).get(k))  # noqa: E731
    api, ep, lep, hr, rp = (bd(A, k) for k in ("api", "endpoint", "localEndpoint", "handlerRun", "resolvedPromise"))
    doc["breakdown"] = {"worker": {k: bd(A, k) for k in ("api", "endpoint", "localEndpoint", "handlerRun", "resolvedPromise")},
                        "page": {k: bd(P, k) for k in ("api", "endpoint", "resolvedPromise")}}
    if api and hr:
        out.append("In a dedicated worker (same gets replayed one layer at a time inside one read transaction, "
                   "5 interleaved rounds, the fastest per layer, median over the runs; engines.mjs getBreakdown):")
        out.append("")
        out.append("| layer (cumulative) | µs per awaited get |")
        out.append("|---|---|")
        out.append(f"| `Handler.run('get')` called synchronously: the engine's get through the op table, value copied out of the wasm heap | {hr:.2f} |")
        out.append(f"| awaited `LocalEndpoint.call('get')`: + one resolved promise | {lep:.2f} |")
        out.append(f"| awaited `db.ep.call('get')` (tabs endpoint → owner session → owner → LocalEndpoint): + outbox, queueMicrotask flush, session's transaction-number mapping, answer promise | {ep:.2f} |")
        out.append(f"| awaited `tx.table(t).get(key)`, the public API | {api:.2f} |")
        out.append("")
    pa, pe = bd(P, "api"), bd(P, "endpoint")
    if pa:
        out.append(f"From the page the same replay gives {pa:.1f} µs through the public API and {pe:.1f} µs through `db.ep.call` "
                   f"(the engine in pagedb's worker), against a bare postMessage round trip of {us(hb('postMessageRoundTripUs'))}.")
        out.append("")
    for e in ("profile-promise-worker", "profile-promise-page", "profile-removals-worker", "profile-removals-page"):
        profs = [res(d, e) for d in runs if res(d, e).get("threads")]
        if not profs:
            continue
        p = profs[len(profs) // 2]
        where = "inside a dedicated worker (engine in that worker)" if p["where"] == "worker" else "from the page (engine in pagedb's worker)"
        if p.get("what") == "removals":
            out.append(f"Chrome's CPU profile of the removals phase alone ({p['gets']:,} deletes in one write transaction) {where}: "
                       f"{p['usPerGet']:.1f} µs per delete while profiled; self time per function, µs per delete (\"get\" below means delete):")
        else:
            out.append(f"Chrome's CPU profile (CDP, {p['samplingIntervalUs']} µs sampling) of {p['gets']:,} gets awaited one at a time "
                       f"{where}: {p['usPerGet']:.1f} µs per get while profiled; self time per function, µs per get:")
        out.append("")
        for t in p["threads"]:
            idle = sum(x["ms"] for x in t["top"] if x["fn"] == "(idle)")
            busy = (t["sampledMs"] - idle) * 1000 / p["gets"]
            top = [x for x in t["top"] if x["usPerGet"] >= 0.5 and x["fn"] != "(idle)"][:14]
            out.append(f"- {t['thread']}: busy {busy:.1f} µs per get (idle, i.e. waiting, {idle * 1000 / p['gets']:.1f}, which "
                       f"includes the profiler's start and stop around the loop): " + "; ".join(f"{x['fn']} {x['usPerGet']:.1f}" for x in top))
        out.append("")

    out.append(f"Median of {len(runs)} runs; ratios above 1 = pagedb faster (for µs: the peer's µs ÷ pagedb's). Every read "
               f"and range entry verified against the generator. Phases: bulk load of {wl['n']:,} in one transaction, "
               f"{wl['individual']:,} one-insert durable commits, {wl['batches']} commits of {wl['batchSize']:,}, {wl['n']:,} "
               f"random reads and {wl['ranges']:,} ranges of {wl['rangeLen']} (the promise APIs issue them 1,000 at a time), "
               f"{wl['n'] // 2:,} removals in one transaction; then {n_get} gets and {n_rng} ranges each awaited before the next "
               f"is called, in one read transaction. Cache {wl['cacheBytes'] // 2**20} MiB for every engine that has one.")
    out.append("")
    for e in (A, S, W, P, Q, I):
        r = res(runs[0], e)
        out.append(f"- **{LABELS[e]}**: " + (f"FAILED: {r['error']}" if "error" in r else f"{r.get('settings')}; file size: {r.get('fileBytesHow')}."))
    errs = [(i + 1, e, res(d, e)["error"]) for i, d in enumerate(runs) for e in d["results"] if "error" in res(d, e)]
    for i, e, m in errs:
        out.append(f"- run {i}: {e} FAILED: {m}")
    out.append("")
    load = f" (shared with other sessions; 1-minute load average at the start of each run: {arg('load')})" if arg("load") else ""
    out.append(f"Machine: {doc['machine']}{load}. Runs: {', '.join(d['date'] for d in runs)}. sqlite-wasm {doc['sqliteWasm']}. "
               f"pagedb git {doc['commit']}. Command: `RUNS={len(runs)} bash scripts/bench-web.sh --goal5 {wl['n']}`" + (f" (WEB_GOAL5_OUT={arg('name')})" if arg('name') else "") + ".")
    out.append("")
    doc["summary"] = summary
    with open(arg("md"), "w") as f:
        f.write("\n".join(out))
    with open(arg("out"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
