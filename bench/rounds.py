#!/usr/bin/env python3
"""Every round of a bench/compare.py results file, one line per run: the
figures bench/tables.py summarises as medians over rounds (and the lowest
round), round by round, so that a per-round figure the README or
docs/performance-log.md quotes can be read again from the record.

  python3 bench/rounds.py bench/results/20261205-round21.jsonl
  python3 bench/rounds.py bench/results/20261204-round15-full.jsonl --workload gemm-mlp

Each round's figure is taken from the last attempt of that round (compare.py
repeats a disturbed run), as tables.py does; a round all of whose attempts
were disturbed is marked "*". What a line shows, by workload:

  mlp, cnn, lstm, resnet     samples/s (nettrain: and the 1024^3 GEMM's GFLOP/s
                             in the same process, peak_gflops)
  gemm                       the 1024^3 product's GFLOP/s
  gemm-mlp, gemm-cnn         ms per step of all the products, the 1024^3
                             product's GFLOP/s timed in the same process
                             (square_1024_gflops), and the round's slowest
                             shape's ratio, nettrain over OpenBLAS's fastest
                             setting (as in tables.py's goals table)
  gemm-pairs, gemm-avx2      each round's median pair ratio, and the two
                             programs' median GFLOP/s over its pairs
  infer-mlp, infer-cnn       samples/s
  scale-*                    2 threads over 1 for the whole step, the cache
                             line's round trip (ns), each core's L2 read
                             bandwidth (GB/s, first core / second, where
                             measured), and the 1024^3 GEMM's own speed-up in
                             the same round

Unlike tables.py it reads one file at a time and never combines files.
"""
import argparse
import collections
import json
import statistics

TRAINING = ("mlp", "cnn", "lstm", "resnet")


def load(path):
    """{(workload, threads, batch, program, settings): {round: record}},
    keeping the last attempt of each round."""
    runs = collections.defaultdict(dict)
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r.get("kind") != "measure":
                continue
            settings = tuple(f"{k}={r[k]}" for k in ("torch_threads", "blas_threads", "omp_wait_policy", "openblas_coretype")
                             if r.get(k) not in (None, "", False))
            key = (r["workload"], r["threads"], r.get("batch"), r["program"], settings)
            runs[key][r.get("round", len(runs[key]))] = r
    return runs


def mark(r):
    return "*" if r.get("conditions", {}).get("disturbed") else ""


def shape_key(s):
    return (s["ta"], s["tb"], s["m"], s["n"], s["k"], bool(s.get("rows")))


def describe(key, rounds, runs):
    workload, threads, batch, program, settings = key
    vals = []
    for i in sorted(rounds):
        r, res = rounds[i], rounds[i]["result"]
        if workload in TRAINING or workload.startswith("infer-"):
            v = f"{res['samples_per_s']:,.0f}"
            if program == "nettrain" and "peak_gflops" in res:
                v += f" ({res['peak_gflops']:.1f} GFLOP/s)"
        elif workload == "gemm":
            v = f"{res['peak_gflops' if program == 'nettrain' else 'gflops']:.1f}"
        elif workload in ("gemm-pairs", "gemm-avx2"):
            ps = res["pairs"]
            v = (f"{statistics.median(p['ratio'] for p in ps):.2f}x "
                 f"({statistics.median(p['nettrain_gflops'] for p in ps):.1f} against "
                 f"{statistics.median(p['openblas_gflops'] for p in ps):.1f})")
        elif workload.startswith("gemm-"):
            v = f"{res['ms_per_step']:.3f} ms, 1024^3 {res['square_1024_gflops']:.1f}"
            if program == "nettrain":
                # Against OpenBLAS's fastest setting by its median ms per step, as tables.py's goals table.
                theirs_runs = [rs for k, rs in runs.items() if k[:3] == key[:3] and k[3] != "nettrain"]
                best = min(theirs_runs, key=lambda rs: statistics.median(x["result"]["ms_per_step"] for x in rs.values()),
                           default={})
                other = best.get(i)
                if other:
                    theirs = {shape_key(s): s["gflops"] for s in other["result"]["shapes"]}
                    worst = min((s["gflops"] / theirs[shape_key(s)], s) for s in res["shapes"]
                                if shape_key(s) in theirs)
                    s = worst[1]
                    v += f", slowest shape {s['m']}x{s['n']}x{s['k']} {worst[0]:.2f}x"
        elif workload.startswith("scale-"):
            a = res["runs"][0]
            b = next((u for u in res["runs"] if u["threads"] == 2), None)
            if not b:
                continue
            cc = b.get("cross_core") or {}
            trip, l2 = cc.get("round_trip_ns"), cc.get("l2_read_gbs")
            v = (f"{a['step_ms'] / b['step_ms']:.2f}x"
                 + (f" ({trip:.0f} ns" if trip else " (round trip not recorded")
                 + (f", L2 {' / '.join(f'{g:.0f}' for g in l2)} GB/s" if l2 else "")
                 + f", GEMM {b['peak_gflops'] / a['peak_gflops']:.2f}x)")
        else:
            continue
        vals.append(f"{i}: {v}{mark(r)}")
    name = f"{workload}, {threads} thread{'s' if threads > 1 else ''}"
    if batch:
        name += f", batch {batch}"
    core = next(iter(rounds.values()))["result"].get("blas", {}).get("openblas_corename")
    if core:
        settings += (f"kernels {core}",)
    name += f", {program}" + (f" ({', '.join(settings)})" if settings else "")
    return f"{name}: " + "; ".join(vals)


def main():
    ap = argparse.ArgumentParser(description="every round of a bench/compare.py results file")
    ap.add_argument("results")
    ap.add_argument("--workload", help="only this workload (e.g. gemm-mlp, scale-cnn)")
    a = ap.parse_args()
    runs = load(a.results)
    with open(a.results) as f:
        m = json.loads(f.readline())
    print(f"{a.results}: {m.get('time', '?')}, {m.get('model_name', '?')} (CPU family {m.get('cpu_family', '?')}), "
          f"nettrain {m.get('nettrain_commit', '?')[:7]}; rounds from 0, * all attempts disturbed")
    for key in sorted(runs, key=lambda k: (k[0], k[1], k[2] or 0, k[3], k[4])):
        if a.workload and key[0] != a.workload:
            continue
        print(describe(key, runs[key], runs))


if __name__ == "__main__":
    main()
