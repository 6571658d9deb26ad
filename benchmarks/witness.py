"""Exact replay of one counterexample against onnxruntime's float32 replay.

Both start from the files, as a referee runs them:

* exact: import the ONNX file (pure-Python decoder, exact weights), read the VNN-LIB property
  and the counterexample, and replay exactly (the outputs at the float32 input and at the
  input as written, the box, the margins); no onnxruntime;
* onnxruntime: what the competition's checker does per counterexample: make an inference
  session from the file and run it at the float32 input.

ACAS Xu: the real counterexample ``mn_bab`` wrote for ACASXU_run2a_1_2 and prop_2 (data sets
``vnncomp-acasxu`` and ``vnncomp-results``). mnist_fc (``vnncomp-mnist_fc``): the 256x2
network from the files, and a 256x6 one built here with the same
layout (Flatten, Gemm with transB, Relu; 784 -> 256 x 6 -> 10) and float32 weights drawn
from a fixed seed at the scale of the real one; the counterexample is the centre of
prop_0_0.03's box. Best of --repeat runs of each.

Run: python benchmarks/witness.py [--repeat 5]

``--vnncomp [YEAR ...]`` (2023, 2024, 2025; all three when none is named) prints, instead, the
numbers of the referee on the VNN-COMP selections (data sets ``vnncomp-2023``, ``-2024``,
``-2025``, under ``$SYMDNN_DATA`` or where ``symdnn data fetch`` put them): every
counterexample decided or refused with a named reason, the refusals among networks that use
only the operators symdnn evaluates, the exact replay time per counterexample beside
onnxruntime's on the same input, and the peak memory of a batch run.

Run: python benchmarks/witness.py --vnncomp [2025] [--limit N] [--timed 5] [--jobs 2]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from _timing import best, data_dir, missing

from symdnn.io.vnnlib import parse_counterexample, read_counterexample, read_vnnlib
from symdnn.witness import import_onnx
from symdnn.witness.replay import replay


def _mnist_256x6(path: Path) -> None:
    import onnx
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(15)
    sizes = [784] + [256] * 6 + [10]
    nodes = [helper.make_node("Flatten", ["0"], ["f"], axis=1)]
    inits, prev = [], "f"
    for i, (m, n) in enumerate(zip(sizes, sizes[1:], strict=False)):
        w = (rng.standard_normal((n, m)) / np.sqrt(m)).astype(np.float32)
        b = (rng.standard_normal(n) * 0.05).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [f"g{i}"], alpha=1.0,
                                      beta=1.0, transB=1))
        prev = f"g{i}"
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [prev], [f"r{i}"]))
            prev = f"r{i}"
    g = helper.make_graph(nodes, "mnist_256x6", [helper.make_tensor_value_info(
        "0", 1, [1, 784, 1])], [helper.make_tensor_value_info(prev, 1, [1, 10])],
        initializer=inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 9)]), str(path))


def _centre(prop) -> str:
    from fractions import Fraction

    def dec(v: Fraction) -> str:
        return f"{float(v):.17g}"

    return "(" + " ".join(f"(X_{i} {dec((lo + hi) / 2)})" for i, (lo, hi) in
                          enumerate(prop.input_box())) + ")"


def _time(label: str, net: Path, prop_path: Path, ce_text: str | None, ce_path: Path | None,
          repeat: int) -> None:
    import onnxruntime as ort

    def exact():
        g = import_onnx(net)
        p = read_vnnlib(prop_path)
        ce = read_counterexample(ce_path) if ce_path else parse_counterexample(ce_text)
        return replay(g, p, ce, onnxruntime=False)

    ce = read_counterexample(ce_path) if ce_path else parse_counterexample(ce_text)
    x = np.array([float(v) for v in ce.inputs]).astype(np.float32)

    def onnxrt():
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        s = ort.InferenceSession(str(net), opts, providers=["CPUExecutionProvider"])
        i = s.get_inputs()[0]
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
        return s.run(None, {i.name: x.reshape(shape)})[0]

    exact()  # warm imports
    onnxrt()
    times_e, times_o, w = [], [], None
    for _ in range(repeat):  # interleaved, so both see the same machine
        t, w = best(exact, 1)
        times_e.append(t)
        t, _ = best(onnxrt, 1)
        times_o.append(t)
    ratios = [e / o for e, o in zip(times_e, times_o, strict=True)]
    print(f"{label}:")
    print(f"  exact replay (from files):       best {min(times_e):7.3f} s")
    print(f"  onnxruntime float32 replay:      best {min(times_o):7.3f} s")
    print("  ratio exact / onnxruntime, each repetition (both timed in it): "
          + ", ".join(f"{r:.1f}" for r in ratios))
    print(f"  genuine {w.genuine}, margin {float(w.margin):.6g}, input margin "
          f"{float(w.input_margin):.6g}")


# ---------------------------------------------------------- --vnncomp: the selections' numbers
#: the CIFAR ResNet-sized convolutional networks of the 2023 selection (timed apart)
CIFAR = ("2022_sri_resnet_a", "2022_cifar_biasfield", "2022_oval21")
#: networks up to this many parameters are timed together
SMALL = 1_000_000
_CE = (".counterexample.gz", ".counterexample")


def _year_folder(year: str) -> Path:
    """The folder of data set ``vnncomp-<year>``: ``<data root>/vnncomp-2023-2025/<year>``."""
    try:
        return data_dir(f"vnncomp-{year}")
    except Exception:  # a symdnn whose registry predates the data set
        import os

        return Path(os.environ.get("SYMDNN_DATA", "symdnn-data")) / "vnncomp-2023-2025" / year


def _networks(bench: Path) -> dict[tuple[str, str], Path]:
    """``(category, network) -> file`` for ``<category>/onnx/*.onnx[.gz]`` (or the category's
    own folder, as the competition's ``test`` keeps them)."""
    out: dict[tuple[str, str], Path] = {}
    for cat in sorted(p for p in bench.iterdir() if p.is_dir()):
        for d in (cat / "onnx", cat):
            for f in sorted(d.glob("*.onnx*")) if d.is_dir() else ():
                stem = f.name.removesuffix(".gz").removesuffix(".onnx")
                if f.is_file() and f.name.endswith((".onnx", ".onnx.gz")):
                    out.setdefault((cat.name, stem), f)
    return out


def _describe(path: Path) -> dict:
    """A network's operators (read with the pure-Python decoder), whether symdnn evaluates
    all of them (:data:`symdnn.io.onnx_ops.OPERATORS`), and its parameter count."""
    from symdnn.io.onnx_ops import OPERATORS
    from symdnn.io.onnxwire import read_model

    try:
        m = read_model(path)
    except Exception as exc:
        return {"ops": set(), "missing": {f"unreadable ({type(exc).__name__})"}, "params": 0,
                "nonzeros": 0}
    ops = {n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
           for n in m.graph.nodes}
    tensors = list(m.graph.initializers.values())
    for n in m.graph.nodes:
        a = n.attributes.get("value") if n.op_type == "Constant" else None
        if hasattr(getattr(a, "value", None), "array"):
            tensors.append(a.value)
    params = sum(int(np.prod(t.dims)) if t.dims else 1 for t in tensors)
    nonzeros = sum(int(np.count_nonzero(t.array)) for t in tensors)
    return {"ops": ops, "missing": ops - set(OPERATORS), "params": params,
            "nonzeros": nonzeros}


def _reason(error: str) -> str:
    """A refusal's reason with the file names and numbers taken out, so that alike refusals
    count together."""
    import re

    m = re.search(r"operator (\S+) is not supported", error)
    if m:
        return f"operator {m.group(1)} not supported"
    parts = error.split(": ")
    while len(parts) > 1 and ("/" in parts[0] or parts[0].endswith(_CE)):
        parts.pop(0)
    text = re.sub(r"\(supported: [^)]*\)", "", ": ".join(parts))
    text = re.sub(r"'[^']*'", "'...'", text)
    text = re.sub(r"\d+(\.\d+)?", "N", text).strip()
    return text if len(text) <= 90 else text[:87] + "..."


#: refusals that are the counterexample file's own doing (the competition's checker cannot
#: take it either), not a limit of symdnn
FILE_REFUSALS = ("inputs do not fit the network", "outputs do not fit the network",
                 "unreadable file", "empty file", "duplicate", "misplaced file")


def _files_fault(row: dict) -> bool:
    """A refusal that the counterexample file causes (:data:`FILE_REFUSALS`)."""
    named = row.get("refusal")
    if named:
        return named in FILE_REFUSALS
    err = row.get("error") or ""
    return "inputs, the network takes" in err or "outputs, the network has" in err


def _why(row: dict) -> str:
    """A refused row's reason: the batch's ``refusal`` name where it gives one that says
    enough, else (after it) the error with file names and numbers taken out."""
    named = row.get("refusal")
    if named and named not in ("network not replayable", "internal error"):
        return named
    return f"{named}: {_reason(row['error'])}" if named else _reason(row["error"])


def _limited(results: Path, limit: int | None, tmp: Path) -> Path:
    """``results`` itself, or a copy of its layout (symbolic links) with at most ``limit``
    counterexample files per tool and benchmark."""
    if limit is None:
        return results
    out = tmp / "results"
    for tool in sorted(p for p in results.iterdir() if p.is_dir()):
        for cat in sorted(p for p in tool.iterdir() if p.is_dir()):
            files = sorted(f for f in cat.iterdir() if f.name.endswith(_CE))[:limit]
            (out / tool.name / cat.name).mkdir(parents=True, exist_ok=True)
            for f in files:
                (out / tool.name / cat.name / f.name).symlink_to(f.resolve())
    return out


def _batch(results: Path, bench: Path, jobs: int, rules: str | None
           ) -> tuple[list[dict], list[str], float]:
    """Every counterexample replayed by the public batch API, exactly, without onnxruntime
    (``jobs`` and the year's ``rules`` passed where it takes them); the rows, the empty files,
    and the wall time."""
    import inspect
    import sys
    import time

    from symdnn.witness.batch import replay_results

    params = inspect.signature(replay_results).parameters
    kw: dict = {"onnxruntime": False}
    if "jobs" in params:
        kw["jobs"] = jobs
    if "rules" in params and rules is not None:
        kw["rules"] = rules

    def progress(i: int, n: int) -> None:
        if i == n or i % 100 == 0:
            print(f"  ... {i}/{n}", file=sys.stderr, flush=True)

    t = time.perf_counter()
    report = replay_results(results, bench, progress=progress, **kw)
    return report.rows, list(report.empty), time.perf_counter() - t


def _rules(year: str) -> str | None:
    """The year's competition rules where symdnn knows them by that name, else None."""
    try:
        from symdnn.witness.rules import RULES
    except ImportError:
        return None
    return year if year in RULES else None


def _state(row: dict) -> str:
    """``genuine``, ``not genuine``, ``undecided`` or ``refused``."""
    if row.get("error"):
        return "refused"
    if row.get("undecided") or row.get("genuine") is None:
        return "undecided"
    return "genuine" if row["genuine"] else "not genuine"


def _census(year: str, rows: list[dict], files: dict[str, int], nets: dict, about: dict,
            seconds: float, empty: int) -> tuple[int, int, int]:
    """Print the year's table; return (counterexamples of networks whose operators are all
    supported, how many of those were refused, how many of those for the file itself)."""
    from collections import Counter

    print(f"\n### VNN-COMP {year}: every counterexample decided or refused\n")
    print(f"{len(rows)} counterexamples from {sum(files.values())} files ({empty} empty) in "
          f"{seconds:.1f} s; decided by: "
          + (", ".join(f"{k} {v}" for k, v in sorted(Counter(
              str(r.get("decided_by") or "exact (not recorded)") for r in rows
              if _state(r) in ("genuine", "not genuine")).items())) or "-") + "\n")
    print("| benchmark | files | rows | genuine | not genuine | undecided | refused | "
          "operators not supported | refused, by reason (tools) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    cats = sorted({r["category"] for r in rows} | set(files))
    tot = Counter()
    sup_rows = sup_refused = sup_file = 0
    for cat in cats:
        mine = [r for r in rows if r["category"] == cat]
        c = Counter(_state(r) for r in mine)
        why = Counter(_why(r) for r in mine if r.get("error"))
        tools: dict[str, Counter] = {}
        for r in mine:
            if r.get("error"):
                tools.setdefault(_why(r), Counter())[r.get("tool")] += 1
        missing = sorted(set().union(*[about[p]["missing"] for (k, _), p in nets.items()
                                       if k == cat]) if any(k == cat for k, _ in nets) else [])
        for r in mine:
            p = nets.get((cat, r.get("network")))
            if p is not None and not about[p]["missing"]:
                sup_rows += 1
                sup_refused += _state(r) == "refused"
                sup_file += _state(r) == "refused" and _files_fault(r)
        print(f"| {cat} | {files.get(cat, 0)} | {len(mine)} | {c['genuine']} | "
              f"{c['not genuine']} | {c['undecided']} | {c['refused']} | "
              f"{', '.join(missing) or '-'} | "
              + ("; ".join(f"{n} {w} (" + ", ".join(f"{t} {k}" for t, k in
                                                     tools[w].most_common()) + ")"
                           for w, n in why.most_common()) or "-") + " |")
        tot.update(c)
        tot["files"] += files.get(cat, 0)
    print(f"| **all** | {tot['files']} | {len(rows)} | {tot['genuine']} | {tot['not genuine']} "
          f"| {tot['undecided']} | {tot['refused']} | | |")
    unnamed = sum(1 for r in rows if (r["category"], r.get("network")) not in nets)
    print("\n" + _refused_line(sup_rows, sup_refused, sup_file)
          + (f"; {unnamed} counterexamples name no network of their benchmark (not counted)"
             if unnamed else ""))
    return sup_rows, sup_refused, sup_file


def _refused_line(rows: int, refused: int, files: int) -> str:
    """The refusals among networks using only the supported operators, with those the files
    cause (:data:`FILE_REFUSALS`) apart from those symdnn's limits cause."""
    def pct(n: int) -> str:
        return f"{100 * n / rows:.2f} %" if rows else "-"

    return (f"refused among networks using only the supported operators: {refused} of {rows} "
            f"({pct(refused)}): {files} because of the file itself (inputs or "
            f"outputs that do not fit the network, unreadable), {refused - files} for symdnn "
            f"({pct(refused - files)})")


def _choose(rows: list[dict], n: int) -> list[dict]:
    """Up to ``n`` replayed rows of one benchmark, taking the networks in turn."""
    by_net: dict[str, list[dict]] = {}
    for r in rows:
        if not r.get("error") and r.get("network"):
            by_net.setdefault(r["network"], []).append(r)
    out: list[dict] = []
    while len(out) < n and any(by_net.values()):
        for net in sorted(by_net):
            if by_net[net] and len(out) < n:
                out.append(by_net[net].pop(0))
    return out


def _timings(year: str, rows: list[dict], nets: dict, about: dict, bench: Path,
             timed: int) -> list[dict]:
    """Time the exact replay of up to ``timed`` counterexamples per benchmark (the graph
    imported once per network, its import timed apart) and onnxruntime on the same input."""
    import time

    from symdnn.errors import SymdnnError
    from symdnn.witness.replay import onnxruntime_outputs

    out = []
    graphs: dict[Path, tuple] = {}
    for cat in sorted({r["category"] for r in rows}):
        for r in _choose([r for r in rows if r["category"] == cat], timed):
            npath = nets.get((cat, r["network"]))
            pdir = bench / cat / "vnnlib"
            ppath = next((p for p in (pdir / f"{r['property']}.vnnlib",
                                      pdir / f"{r['property']}.vnnlib.gz",
                                      bench / cat / f"{r['property']}.vnnlib")
                          if p.is_file()), None)
            if npath is None or ppath is None:
                continue
            try:
                if npath not in graphs:
                    t = time.perf_counter()
                    g = import_onnx(npath)
                    t_imp = time.perf_counter() - t
                    t = time.perf_counter()
                    try:
                        onnxruntime_outputs(g, np.zeros(int(np.prod(g.input_shape))))
                        t_sess = time.perf_counter() - t
                    except SymdnnError:
                        t_sess = None
                    graphs.clear()  # one network in memory at a time
                    graphs[npath] = (g, t_imp, t_sess)
                g, t_imp, t_sess = graphs[npath]
                prop = read_vnnlib(ppath)
                ce = read_counterexample(r["counterexample"])
                if r.get("ce_count") and hasattr(ce, "split"):  # one of several in the file
                    ce = ce.split(r["ce_count"])[r["ce_index"]]
                t = time.perf_counter()
                replay(g, prop, ce, onnxruntime=False)
                t_exact = time.perf_counter() - t
                x = np.array([float(v) for v in ce.inputs], dtype=np.float64)
                t_ort = None
                if t_sess is not None:
                    t = time.perf_counter()
                    onnxruntime_outputs(g, x)
                    t_ort = time.perf_counter() - t
            except SymdnnError:
                continue
            out.append({"year": year, "category": cat, "network": r["network"],
                        "params": about[npath]["params"],
                        "nonzeros": about[npath]["nonzeros"], "import": t_imp,
                        "session": t_sess, "exact": t_exact, "ort": t_ort})
    graphs.clear()
    return out


def _median(xs: list[float]) -> float:
    return float(np.median(xs)) if xs else float("nan")


def _print_timings(ts: list[dict]) -> None:
    print("\n### Exact replay per counterexample, beside onnxruntime on the same input\n")
    print("Each network imported once (import, and onnxruntime's session, timed apart); then "
          "`replay()` (exact, at the float32 input and as written, no onnxruntime) and one "
          "onnxruntime run (CPU, one thread) per counterexample.\n")
    print("| year | benchmark | largest network: parameters (nonzero) | timed | import s (max) "
          "| exact s (median) | onnxruntime s (median) | ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for key in sorted({(t["year"], t["category"]) for t in ts}):
        mine = [t for t in ts if (t["year"], t["category"]) == key]
        e = _median([t["exact"] for t in mine])
        o = _median([t["ort"] for t in mine if t["ort"] is not None])
        big = max(mine, key=lambda t: t["params"])
        print(f"| {key[0]} | {key[1]} | {big['params']:,} ({big['nonzeros']:,}) | {len(mine)} | "
              f"{max(t['import'] for t in mine):.3f} | {e:.4f} | {o:.6f} | "
              f"{e / o if o == o and o > 0 else float('nan'):.0f} |")
    groups = (("networks up to 1 M parameters (CIFAR ResNet-sized ones apart)",
               [t for t in ts if t["params"] <= SMALL and t["category"] not in CIFAR]),
              ("CIFAR ResNet-sized conv networks (" + ", ".join(CIFAR) + ")",
               [t for t in ts if t["category"] in CIFAR]),
              ("networks over 1 M parameters",
               [t for t in ts if t["params"] > SMALL and t["category"] not in CIFAR]))
    print()
    for label, mine in groups:
        if not mine:
            print(f"{label}: none timed")
            continue
        e = _median([t["exact"] for t in mine])
        o = _median([t["ort"] for t in mine if t["ort"] is not None])
        print(f"{label}: {len(mine)} counterexamples, median exact {e:.4f} s "
              f"(max {max(t['exact'] for t in mine):.3f} s), "
              f"onnxruntime {o:.6f} s, ratio exact / onnxruntime {e / o:.0f}")


#: runs ``symdnn witness`` in the child, then writes its own peak (VmHWM: the peak RSS of its
#: own address space, which a process started from a large parent does not inherit, unlike
#: getrusage's ru_maxrss of the exec'd process) and getrusage's peak of its workers
_CHILD = """
import json, os, resource, sys
from symdnn.cli import main
try:
    code = main(sys.argv[1:])
finally:
    hwm = [int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')]
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    with open(os.environ['SYMDNN_BENCH_PEAK'], 'w') as fh:
        json.dump({'self': hwm[0] if hwm else None, 'workers': kids}, fh)
sys.exit(code)
"""


def _memory(year_dir: Path, jobs: int) -> None:
    """Peak memory of ``symdnn witness --results ... --benchmarks ... [--jobs N]`` in a child
    process: the child's own peak RSS, its workers' (getrusage), and, sampled every 0.1 s,
    the sum over the child and its workers."""
    import json
    import os
    import subprocess
    import sys
    import time

    import symdnn

    repo = Path(symdnn.__file__).resolve().parents[1]  # the child runs this same symdnn
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(repo)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    helptext = subprocess.run([sys.executable, "-m", "symdnn.cli", "witness", "--help"],
                              capture_output=True, text=True, env=env).stdout
    with tempfile.TemporaryDirectory() as tmp:
        args = ["witness", "--results", str(year_dir / "results"), "--benchmarks",
                str(year_dir / "benchmarks"), "--json", str(Path(tmp) / "w.json"),
                "--quiet"] + (["--jobs", str(jobs)] if "--jobs" in helptext else [])
        env["SYMDNN_BENCH_PEAK"] = str(Path(tmp) / "peak.json")
        try:
            import psutil
        except ImportError:
            psutil = None
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        tree_peak = 0
        while proc.poll() is None:
            if psutil is not None:
                try:
                    p = psutil.Process(proc.pid)
                    tree_peak = max(tree_peak, sum(
                        q.memory_info().rss for q in [p, *p.children(recursive=True)]))
                except psutil.Error:
                    pass
            time.sleep(0.1)
        wall = time.perf_counter() - t
        err = proc.stderr.read() if proc.stderr else ""
        peak_file = Path(env["SYMDNN_BENCH_PEAK"])
        peak = json.loads(peak_file.read_text()) if peak_file.is_file() else {}
    here = f'"$(symdnn data path vnncomp-{year_dir.name})"'
    shown = " ".join(["symdnn witness --results", f"{here}/results", "--benchmarks",
                      f"{here}/benchmarks", "--json w.json --quiet", *args[args.index("--quiet")
                                                                          + 1:]])
    gib = 2 ** 30
    print(f"\n### Peak memory of a batch run ({year_dir.name} results)\n")
    print(f"`{shown}` in a child process (exit {proc.returncode}, {wall:.0f} s"
          + (", --jobs not taken by this symdnn" if "--jobs" not in helptext else "") + "):")
    if peak.get("self"):
        print(f"- peak RSS of the command's process (VmHWM): {peak['self'] / gib:.2f} GiB")
    if "--jobs" in helptext:
        print(f"- largest peak RSS of its workers (getrusage): {peak.get('workers', 0) / gib:.2f}"
              " GiB")
    if psutil is not None:
        print(f"- peak of the process and its workers together (sampled every 0.1 s): "
              f"{tree_peak / gib:.2f} GiB")
    if proc.returncode not in (0, 1):
        print("- its last error lines: " + " / ".join(err.strip().splitlines()[-2:]))


def run_vnncomp(years: list[str], *, limit: int | None = None, timed: int = 5, jobs: int = 2,
                memory_year: str | None = "2025") -> None:
    """The referee's numbers for ``years``, printed as Markdown."""
    import platform
    import sys

    from symdnn.io.onnx_ops import OPERATORS

    print(f"## symdnn witness on the VNN-COMP selections {', '.join(years)}\n")
    print(f"Python {platform.python_version()}, {os_cores()} cores; operators evaluated: "
          f"{len(OPERATORS)}" + (f"; at most {limit} files per tool and benchmark"
                                 if limit else ""))
    all_sup = all_ref = all_fil = 0
    timings: list[dict] = []
    for year in years:
        folder = _year_folder(year)
        if not (folder / "results").is_dir():
            print(missing(f"vnncomp-{year}", folder))
            continue
        bench = folder / "benchmarks"
        nets = _networks(bench)
        about = {p: _describe(p) for p in nets.values()}
        with tempfile.TemporaryDirectory() as tmp:
            results = _limited(folder / "results", limit, Path(tmp))
            files: dict[str, int] = {}
            for f in results.glob("*/*/*"):
                if f.name.endswith(_CE):
                    files[f.parent.name] = files.get(f.parent.name, 0) + 1
            print(f"{year}: replaying {sum(files.values())} files ...", file=sys.stderr)
            rows, empty, secs = _batch(results, bench, jobs, _rules(year))
            sup, ref, fil = _census(year, rows, files, nets, about, secs, len(empty))
            all_sup, all_ref, all_fil = all_sup + sup, all_ref + ref, all_fil + fil
            if timed:
                timings += _timings(year, rows, nets, about, bench, timed)
    if len(years) > 1 and all_sup:
        print(f"\nall years: {_refused_line(all_sup, all_ref, all_fil)}")
    if timings:
        _print_timings(timings)
    if memory_year:
        folder = _year_folder(memory_year)
        if (folder / "results").is_dir():
            _memory(folder, jobs)
        else:
            print(missing(f"vnncomp-{memory_year}", folder))


def os_cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--vnncomp", nargs="*", metavar="YEAR", default=None,
                    help="the referee's numbers on the VNN-COMP 2023-2025 selections (all three "
                         "years when no YEAR is named) instead of the ACAS Xu / mnist_fc "
                         "timings")
    ap.add_argument("--limit", type=int, default=None, metavar="N",
                    help="--vnncomp: at most N counterexample files per tool and benchmark")
    ap.add_argument("--timed", type=int, default=5, metavar="N",
                    help="--vnncomp: counterexamples timed per benchmark (default 5)")
    ap.add_argument("--jobs", type=int, default=2,
                    help="--vnncomp: processes of the batch runs, where replay_results and "
                         "`symdnn witness` take --jobs (default 2)")
    ap.add_argument("--memory-year", default="2025", metavar="YEAR",
                    help="--vnncomp: the year whose batch run's peak memory is measured "
                         "(default 2025; 'none' to skip)")
    args = ap.parse_args()
    if args.vnncomp is not None:
        run_vnncomp(args.vnncomp or ["2023", "2024", "2025"], limit=args.limit, timed=args.timed,
            jobs=args.jobs, memory_year=None if args.memory_year == "none" else
            args.memory_year)
        return
    acas, mnist, results = (data_dir(n) for n in ("vnncomp-acasxu", "vnncomp-mnist_fc",
                                                   "vnncomp-results"))
    for name, path in (("vnncomp-acasxu", acas), ("vnncomp-mnist_fc", mnist),
                       ("vnncomp-results", results)):
        if not path.is_dir():
            print(missing(name, path))
            return
    ce = results / "mn_bab" / "acasxu" / "ACASXU_run2a_1_2_batch_2000_prop_2.counterexample.gz"
    _time("ACAS Xu 1_2, prop_2, the real mn_bab counterexample",
          acas / "onnx" / "ACASXU_run2a_1_2_batch_2000.onnx",
          acas / "vnnlib" / "prop_2.vnnlib", None, ce, args.repeat)
    prop = mnist / "vnnlib" / "prop_0_0.03.vnnlib"
    text = _centre(read_vnnlib(prop))
    _time("mnist_fc 256x2 (from the files), prop_0_0.03, the box centre",
          mnist / "onnx" / "mnist-net_256x2.onnx", prop, text, None, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        net = Path(tmp) / "mnist-net_256x6.onnx"
        _mnist_256x6(net)
        _time("mnist_fc 256x6 (built here, same layout), prop_0_0.03, the box centre", net,
              prop, text, None, args.repeat)


if __name__ == "__main__":
    main()
