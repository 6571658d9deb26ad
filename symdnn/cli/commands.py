"""The ``symdnn`` command line: a thin front end over the public API."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from symdnn import __version__
from symdnn.errors import SymdnnError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symdnn",
        description="Verify sparse ReLU deep neural networks in exact arithmetic "
                    "(Kepner et al., Sparse Deep Neural Network Exact Solutions, 2018).",
    )
    parser.add_argument("--version", action="version", version=f"symdnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo", help="the paper's two-letter network end to end: verify, thresholds, audit",
        description="Build the two-letter-word network of the paper (Fig. 6), verify it "
                    "exactly, derive every threshold r_d, reproduce Figs. 6 and 10, audit "
                    "fp32/fp16/bf16 runs against exact arithmetic, and write a Markdown report "
                    "with the figures. Exit status 0 when every check passes.",
    )
    demo.add_argument("--out", default="symdnn-demo", metavar="DIR",
                      help="folder for report.md and the figures (default ./symdnn-demo)")
    demo.set_defaults(func=_cmd_demo)

    gc = sub.add_parser(
        "graph-challenge", help="run the Sparse DNN Graph Challenge and check its categories",
        description="Run the MIT/IEEE Sparse DNN Graph Challenge from its files (official "
                    "layout DNN/neuronN/, MNIST/sparse-images-N.tsv, or the flat layout of the "
                    "shared data), print the categories and compare them with the official "
                    "truth. Exit status: 0 match, 1 mismatch, 3 no truth file to check against.",
    )
    gc.add_argument("data_dir", metavar="DATA_DIR")
    gc.add_argument("--neurons", type=int, default=1024, help="network width (default 1024)")
    gc.add_argument("--layers", type=int, default=120, help="number of layers (default 120)")
    gc.add_argument("--images", type=int, default=None,
                    help="use only the first N images (default: all in the file)")
    gc.add_argument("--arith", default="exact",
                    choices=["exact", "fp64", "fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2"],
                    help="arithmetic (default exact)")
    gc.add_argument("--accumulate", default=None,
                    help="float runs: accumulation format (default: the --arith format)")
    gc.add_argument("--quiet", action="store_true", help="no progress bar")
    gc.set_defaults(func=_cmd_graph_challenge)

    build = sub.add_parser(
        "build", help="build an exact-solution network and write it to a folder",
        description="Build one of the paper's exact-solution networks: selective (target "
                    "words and a layer scheme), combinatoric (Kronecker products of feature "
                    "sets) or images (MNIST IDX files), and write it with its model-problem "
                    "inputs to OUT. Schemes: single, pairs, chain, three2, or groups of letter "
                    "positions such as 12,34/1234 (layers split by /, groups by ,).",
    )
    what = build.add_mutually_exclusive_group(required=True)
    what.add_argument("--words", metavar="FILE", help="target words, one per line")
    what.add_argument("--builtin", metavar="NAME", choices=["words2", "words3", "words4"],
                      help="a bundled word list: words2 (the paper's 37), words3, words4")
    what.add_argument("--combinatoric", metavar="SIZES",
                      help="feature set sizes, e.g. 2,2,2,2 (the paper's section IV)")
    what.add_argument("--mnist", metavar="IMAGES", help="an MNIST images IDX file (.gz or raw)")
    build.add_argument("--labels", metavar="FILE", help="MNIST labels IDX file")
    build.add_argument("--count", type=int, default=None, help="MNIST: number of images")
    build.add_argument("--start", type=int, default=0, help="MNIST: index of the first image")
    build.add_argument("--contained", choices=["report", "drop"], default="report",
                       help="MNIST: images contained in others are reported or dropped")
    build.add_argument("--scheme", default="single", help="words: layer scheme (default single)")
    build.add_argument("--beta", default="1",
                       help="betas, one per layer or one for all: e.g. 4/5,1 (default 1)")
    build.add_argument("--layers", type=int, default=2, choices=[1, 2],
                       help="combinatoric: two layers or the collapsed single layer")
    build.add_argument("--out", required=True, metavar="DIR", help="folder to write")
    build.add_argument("--plot", metavar="FILE", help="also draw W0 (.png or .svg)")
    build.set_defaults(func=_cmd_build)

    ver = sub.add_parser(
        "verify", help="decide exactly whether a built network solves its model problem",
        description="Feed the model problem's inputs (Y0 = W0^T of the single-layer solution) "
                    "to a network written by 'symdnn build' and decide in exact arithmetic "
                    "whether Y_L is the identity (or a positive diagonal). Exit status 0 when "
                    "exact, 1 when not.",
    )
    ver.add_argument("dir", metavar="DIR")
    ver.add_argument("--formulation", default="fast",
                     choices=["fast", "reference", "standard", "oscillating", "collapsed"])
    ver.add_argument("--json", action="store_true", help="print the verdict as JSON")
    ver.set_defaults(func=_cmd_verify)

    thr = sub.add_parser(
        "threshold", help="exact perturbation thresholds r_d and P_d / P_fa of every category",
        description="For every category c and letter position (feature) p, feature p of c's "
                    "input takes the value r in [0, 2]. r_d is the smallest r with c selected "
                    "(the unique positive maximum of the output) for every r' in (r, 2], null "
                    "when c is not selected at r = 2. Computed exactly (piecewise-linear in r) "
                    "and compared with the closed form. A network that is not an exact "
                    "solution gets no thresholds: the command says why and exits 1 (with "
                    "--force it gives them, flagged). The network comes from --words/--builtin "
                    "with --scheme and --beta (as in 'symdnn build') or from a folder DIR "
                    "written by build.",
    )
    thr.add_argument("dir", metavar="DIR", nargs="?", help="a folder written by symdnn build")
    src = thr.add_mutually_exclusive_group()
    src.add_argument("--words", metavar="FILE", help="target words, one per line")
    src.add_argument("--builtin", metavar="NAME", choices=["words2", "words3", "words4"])
    thr.add_argument("--scheme", default="single", help="layer scheme (default single)")
    thr.add_argument("--beta", default="1", help="betas, e.g. 4/5,1 (default 1)")
    thr.add_argument("--json", action="store_true", help="print the report as JSON")
    thr.add_argument("--plot", metavar="FILE", help="draw P_d(r) and P_fa(r) (Fig. 10)")
    thr.add_argument("--csv", metavar="FILE", help="write the r_d table as CSV")
    thr.add_argument("--markdown", metavar="FILE", help="write the r_d table as Markdown")
    thr.add_argument("--force", action="store_true",
                     help="give the thresholds of a network that is not an exact solution too "
                          "(flagged as such; exit 0)")
    thr.set_defaults(func=_cmd_threshold)

    aud = sub.add_parser(
        "audit", help="cross-check float runs against exact arithmetic, layer by layer",
        description="Run exact arithmetic and float runs in lockstep and report where the "
                    "float runs depart from the truth: pre-activations exactly zero that turn "
                    "positive or negative, flipped ReLU and cap decisions, ulps, categories. "
                    "TARGET is 'graph-challenge' followed by its DATA_DIR, or a folder written "
                    "by 'symdnn build' (its model-problem inputs are used). Exit status 1 when "
                    "a --fail-on policy is violated (default: categories differ from exact).",
    )
    aud.add_argument("target", metavar="TARGET", help="graph-challenge, or a network folder")
    aud.add_argument("data_dir", metavar="DATA_DIR", nargs="?",
                     help="the Graph Challenge data (with TARGET graph-challenge)")
    aud.add_argument("--formats", default="fp64,fp32,fp16,bf16",
                     help="comma-separated: fp64, fp32, fp16, bf16, fp8_e4m3, fp8_e5m2, int8")
    aud.add_argument("--accumulate", default=None,
                     help="accumulation format for the float runs; 'same' accumulates in each "
                          "format (default: the format for fp64/fp32, fp32 for the others)")
    aud.add_argument("--neurons", type=int, default=1024)
    aud.add_argument("--layers", type=int, default=120)
    aud.add_argument("--images", type=int, default=None)
    aud.add_argument("--json", metavar="FILE", help="write the JSON report here ('-': stdout)")
    aud.add_argument("--report", metavar="DIR", help="write report.json, report.md and plots")
    aud.add_argument("--fail-on", action="append", default=None, metavar="KIND[:N]",
                     help="fail when a run's total of KIND exceeds N (default 0); kinds: "
                          "categories, truth, sign_flip, zero_to_pos, zero_to_neg, cap_flip, "
                          "missing, spurious, spurious_pos, max_ulp. Repeatable.")
    aud.add_argument("--thresholds", action="store_true",
                     help="network folders: also compare float r_d and P_d with exact ones "
                          "(every representable r in [0, 2] for fp16, bf16, fp8)")
    aud.add_argument("--quiet", action="store_true", help="no progress bar")
    aud.set_defaults(func=_cmd_audit)

    inf = sub.add_parser(
        "infer", help="run a network on inputs, exactly or in a float format",
        description="Run a network folder written by 'symdnn build' on its model-problem "
                    "inputs or on --inputs FILE (row<TAB>col<TAB>value triples, exact), print "
                    "the selected category of every input (the unique positive maximum) and "
                    "write the outputs as triples.")
    inf.add_argument("dir", metavar="DIR")
    inf.add_argument("--inputs", metavar="FILE")
    inf.add_argument("--arith", default="exact",
                     choices=["exact", "fp64", "fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2"])
    inf.add_argument("--accumulate", default=None)
    inf.add_argument("--out", metavar="FILE", help="write the outputs here (TSV triples)")
    inf.set_defaults(func=_cmd_infer)

    suite = sub.add_parser(
        "suite", help="build, verify and grade certified reference suites",
        description="Certified reference suites: a network, inputs, exact outputs, correctly "
                    "rounded outputs per float format, categories, thresholds where defined, "
                    "and a manifest with the sha256 of every file.")
    ss = suite.add_subparsers(dest="suite_command", metavar="ACTION", required=True)
    sb = ss.add_parser("build", help="write a suite for a network",
                       description="NET_DIR is a folder written by 'symdnn build' or a Graph "
                                   "Challenge folder (give --neurons and --layers).")
    sb.add_argument("net_dir", metavar="NET_DIR")
    sb.add_argument("--out", required=True, metavar="DIR")
    sb.add_argument("--formats", default="fp64,fp32,fp16,bf16")
    sb.add_argument("--inputs", metavar="FILE", help="inputs to use instead of the folder's")
    sb.add_argument("--neurons", type=int, default=None)
    sb.add_argument("--layers", type=int, default=None)
    sb.add_argument("--quiet", action="store_true")
    sb.set_defaults(func=_cmd_suite_build)
    sv = ss.add_parser("verify", help="recompute a suite exactly and check every hash",
                       description="Exit status 0 when every hash matches and every expected "
                                   "file equals its exact recomputation, 1 otherwise.")
    sv.add_argument("dir", metavar="DIR")
    sv.add_argument("--quiet", action="store_true")
    sv.set_defaults(func=_cmd_suite_verify)
    sg = ss.add_parser("grade", help="grade an implementation's outputs against a suite",
                       description="RESULTS holds image<TAB>neuron<TAB>value lines (1-based, "
                                   "decimals or hex floats). With --format each output must be "
                                   "within --max-ulp ulps of the correctly rounded expected "
                                   "value; without, exactly equal to the exact output. Exit "
                                   "status 1 names the outputs that are off.")
    sg.add_argument("dir", metavar="DIR")
    sg.add_argument("results", metavar="RESULTS")
    sg.add_argument("--format", default=None, dest="fmt")
    sg.add_argument("--max-ulp", type=int, default=0)
    sg.set_defaults(func=_cmd_suite_grade)

    gen = sub.add_parser("generate", help="generate large networks, streamed to disk",
                         description="Write a RadiX-Net-style network (mixed-radix layers "
                                     "extended by a Kronecker product) in the Graph Challenge "
                                     "layout, layer by layer, with random 0/1 inputs.")
    gs = gen.add_subparsers(dest="gen_command", metavar="KIND", required=True)
    gr = gs.add_parser("radixnet", help="a RadiX-Net-style network")
    gr.add_argument("--neurons", type=int, default=1024)
    gr.add_argument("--layers", type=int, default=120)
    gr.add_argument("--radices", default=None, help="e.g. 2,2,2,2,2,2,2,2 (with --kron)")
    gr.add_argument("--kron", type=int, default=None)
    gr.add_argument("--style", choices=["graph-challenge", "exact"], default="graph-challenge")
    gr.add_argument("--beta", default="1", help="style exact: the beta of the bias rule")
    gr.add_argument("--inputs", type=int, default=64)
    gr.add_argument("--density", type=float, default=0.5)
    gr.add_argument("--seed", type=int, default=0)
    gr.add_argument("--out", required=True, metavar="DIR")
    gr.add_argument("--quiet", action="store_true")
    gr.set_defaults(func=_cmd_generate_radixnet)
    return parser


def _cmd_infer(args: argparse.Namespace) -> int:
    from symdnn.assoc import AssocArray
    from symdnn.io.netdir import read_network

    net, info = read_network(args.dir)
    Y0 = AssocArray.read_tsv(args.inputs, domain="QQ") if args.inputs else info["inputs"]
    if Y0 is None:
        raise SymdnnError(f"{args.dir} has no inputs.tsv: give --inputs FILE")
    res = net.infer(Y0, arith=args.arith, accumulate=args.accumulate)
    out = res.output if net.convention == "column" else res.output.T
    best: dict = {}
    for r, c, v in out.triples():
        best.setdefault(c, []).append((v, r))
    inputs = Y0.col() if net.convention == "column" else Y0.row()
    for key in inputs:
        vals = sorted(best.get(key, []), key=lambda t: t[0], reverse=True)
        top = vals[0] if vals and vals[0][0] > 0 and (len(vals) == 1 or vals[1][0] < vals[0][0]) \
            else None
        print(f"{key}\t{top[1] if top else '-'}\t{len(vals)} outputs nonzero")
    if args.out:
        res.output.write_tsv(args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _cmd_suite_build(args: argparse.Namespace) -> int:
    from symdnn.suite import build_suite

    progress = None if args.quiet else Progress("suite build")
    out = build_suite(args.net_dir, args.out, formats=tuple(args.formats.split(",")),
                      neurons=args.neurons, layers=args.layers, inputs=args.inputs,
                      progress=progress)
    print(f"wrote suite {out}")
    return 0


def _cmd_suite_verify(args: argparse.Namespace) -> int:
    from symdnn.suite import verify_suite

    check = verify_suite(args.dir, progress=None if args.quiet else Progress("suite verify"))
    print(("VERIFIED: " if check.ok else "FAILED: ") + "; ".join(check.checked))
    for p in check.problems:
        print(f"  {p}")
    return 0 if check.ok else 1


def _cmd_suite_grade(args: argparse.Namespace) -> int:
    from symdnn.suite import grade_suite

    grade = grade_suite(args.dir, args.results, fmt=args.fmt, max_ulp=args.max_ulp)
    print(grade.summary())
    return 0 if grade.ok else 1


def _cmd_generate_radixnet(args: argparse.Namespace) -> int:
    from fractions import Fraction

    from symdnn.generators import generate_radixnet

    radices = None if args.radices is None else tuple(int(r) for r in args.radices.split(","))
    out = generate_radixnet(args.out, neurons=args.neurons, layers=args.layers, radices=radices,
                            kron=args.kron, style=args.style, beta=Fraction(args.beta),
                            inputs=args.inputs, density=args.density, seed=args.seed,
                            progress=None if args.quiet else Progress("generate"))
    print(f"wrote {out}: {args.layers} layers of {args.neurons} neurons, {args.inputs} inputs")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    import json

    from symdnn.audit import audit_graph_challenge, audit_network, parse_policy
    from symdnn.constructions import load_construction

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    try:
        policy = parse_policy(args.fail_on if args.fail_on is not None else ["categories"])
    except ValueError as exc:
        raise SymdnnError(str(exc)) from None
    progress = None if args.quiet else Progress("audit")
    if args.target == "graph-challenge":
        if args.data_dir is None:
            raise SymdnnError("audit graph-challenge needs DATA_DIR")
        report = audit_graph_challenge(args.data_dir, formats=formats, neurons=args.neurons,
                                       layers=args.layers, images=args.images,
                                       accumulate=args.accumulate, progress=progress)
    else:
        c = load_construction(args.target)
        report = audit_network(c.net, c.inputs, formats=formats, accumulate=args.accumulate,
                               name=args.target, progress=progress)
        if args.thresholds:
            from symdnn.audit.thresholds import threshold_audit

            report.thresholds = threshold_audit(
                c, [f for f in formats if f != "int8"],
                accumulate=None if args.accumulate in (None, "same") else args.accumulate)
    if args.report:
        for p in report.write(args.report):
            print(f"wrote {p}", file=sys.stderr)
    if args.json == "-":
        print(json.dumps(report.to_json(), indent=1))
    else:
        if args.json:
            from symdnn.assoc.convert import atomic_write

            text = json.dumps(report.to_json(), indent=1)
            atomic_write(args.json, lambda fh: fh.write(text + "\n"))
        print(report.to_markdown())
    bad = report.violations(policy)
    for line in bad:
        print(f"policy violated: {line}", file=sys.stderr)
    return 1 if bad else 0


def _cmd_threshold(args: argparse.Namespace) -> int:
    import json

    from symdnn.analysis import analyze
    from symdnn.assoc.convert import atomic_write
    from symdnn.constructions import build_construction, load_construction

    if (args.dir is None) == (args.words is None and args.builtin is None):
        raise SymdnnError("give a network folder DIR, or --words FILE or --builtin NAME")
    if args.dir is not None:
        c = load_construction(args.dir)
    else:
        c = build_construction(words=args.words, builtin=args.builtin, scheme=args.scheme,
                               betas=parse_betas(args.beta))
    report = analyze(c, exact_only=not args.force)
    if report.withheld:
        if args.json:
            print(json.dumps(report.to_json(), indent=1))
        print(f"symdnn threshold: NOT an exact solution: {report.reason}\nno thresholds for "
              "a network that is not an exact solution (see 'symdnn verify'); --force gives "
              "them anyway, flagged", file=sys.stderr)
        return 1
    if args.csv:
        atomic_write(args.csv, lambda fh: fh.write(report.to_csv()))
    if args.markdown:
        atomic_write(args.markdown, lambda fh: fh.write(report.to_markdown()))
    if args.plot:
        report.plot(args.plot)
    if not report.exact:
        print(f"WARNING: NOT an exact solution, thresholds given only because of --force: "
              f"{report.reason}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_json(), indent=1))
        return 0
    if not report.exact:
        print("WARNING: NOT an exact solution (the model problem fails; see 'symdnn verify'). "
              "These thresholds do not describe an exact network (--force).")
    counts: dict = {}
    for p in report.pairs:
        counts[str(p.r_d)] = counts.get(str(p.r_d), 0) + 1
    judged = [p for p in report.pairs if p.agrees is not None]
    agree = sum(bool(p.agrees) for p in judged)
    alarms = sum(bool(p.false_alarm) for p in report.pairs)
    print(f"{len(report.pairs)} (category, feature) pairs in {report.seconds:.2f} s; "
          + (f"betas {', '.join(map(str, report.betas))}" if report.has_closed_form
             else "explicit biases (no closed form)"))
    print("r_d: " + ", ".join(f"{k} x{n}" for k, n in sorted(counts.items())))
    print(f"closed form agrees on {agree} of {len(judged)} pairs; false alarms on "
          f"{alarms}")
    for p in [p for p in judged if not p.agrees][:5]:
        print(f"  {p.category!r} {p.feature!r}: r_d {p.r_d}, closed form {p.closed_form}: "
              f"{p.note}")
    return 0


def parse_betas(text: str) -> list[str] | str:
    """``"4/5,1"`` -> ``["4/5", "1"]``; a single value applies to every layer."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    return parts[0] if len(parts) == 1 else parts


def _cmd_build(args: argparse.Namespace) -> int:
    from symdnn.constructions import build_construction
    from symdnn.io.netdir import write_network

    c = build_construction(words=args.words, builtin=args.builtin, sizes=args.combinatoric,
                           mnist=args.mnist, labels=args.labels, count=args.count,
                           start=args.start, contained=args.contained, scheme=args.scheme,
                           betas=parse_betas(args.beta), layers=args.layers)
    write_network(args.out, c.net, inputs=c.inputs, expected=c.expected,
                  meta={"construction": c.name, **c.params})
    depth = c.net.depth
    print(f"wrote {args.out}: {c.name}, {len(c.categories)} categories, "
          f"{len(c.features)} features, {depth} layer{'s' if depth != 1 else ''}, "
          f"{sum(ly.W.nnz for ly in c.net.layers)} weights")
    if c.params.get("contained"):
        print(f"note: {len(c.params['contained'])} pairs of images where one is contained in "
              "the other: the solution cannot be exact (use --contained drop)")
    if args.plot:
        from symdnn.plotting import spy

        spy(c.net.layers[0].W, args.plot, title=f"W0 ({c.name})")
        print(f"wrote {args.plot}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    import json

    from symdnn.constructions import load_construction

    v = load_construction(args.dir).verify(formulation=args.formulation)
    if args.json:
        print(json.dumps(v.to_json(), indent=1))
    else:
        print(v.summary())
    return 0 if v.exact else 1


class Progress:
    """A one-line progress bar on stderr (a line every 10% when stderr is not a terminal)."""

    def __init__(self, label: str):
        self.label = label
        self.start = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        frac = done / total
        elapsed = time.perf_counter() - self.start
        if self.tty:
            bar = "#" * int(30 * frac)
            sys.stderr.write(f"\r{self.label} [{bar:<30}] {done}/{total} {elapsed:6.1f} s")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif int(10 * frac) != self.last:
            self.last = int(10 * frac)
            sys.stderr.write(f"{self.label}: {done}/{total} layers, {elapsed:.1f} s\n")


def _cmd_graph_challenge(args: argparse.Namespace) -> int:
    from symdnn.challenge import run_challenge

    progress = None if args.quiet else Progress(f"graph-challenge {args.arith}")
    result = run_challenge(args.data_dir, neurons=args.neurons, layers=args.layers,
                           images=args.images, arith=args.arith, accumulate=args.accumulate,
                           progress=progress)
    print(result.summary())
    if result.matches is None:
        return 3
    return 0 if result.matches else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from symdnn.demo import full_demo, run_demo

    print(run_demo().report())
    ok, path = full_demo(args.out)
    print(f"\nthresholds, Fig. 10 and the float audit: {'all checks pass' if ok else 'FAILED'}")
    print(f"report: {path}")
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symdnn`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except SymdnnError as exc:
        print(f"symdnn {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
