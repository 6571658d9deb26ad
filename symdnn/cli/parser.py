"""The argument parser of the ``symdnn`` command: every command with a description, every
option with its help and default, counts and numbers validated as they are read."""

from __future__ import annotations

import argparse

from symdnn._version import __version__
from symdnn.cli import commands as C
from symdnn.cli.data import add_data_parser
from symdnn.cli.support import (
    EXIT_TEXT,
    HelpFormatter,
    command_group,
    density,
    exact_number,
    int_list,
    nonneg_int,
    positive_int,
)
from symdnn.witness.rules import RULES as WITNESS_RULES

__all__ = ["build_parser"]

ARITHS = ["exact", "fp64", "fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2"]
#: formats scipy accumulates in (a run in fp16, bf16 or fp8 accumulates in its own format
#: when --accumulate is not given)
ACCUMULATE = ["fp64", "fp32"]


def _sub(sub: argparse._SubParsersAction, name: str, help: str, description: str,
         func) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help, description=description, epilog=EXIT_TEXT,
                       formatter_class=HelpFormatter)
    p.set_defaults(func=func)
    return p


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="print the result as JSON, to FILE when given, else to stdout "
                        "(then nothing else goes to stdout)")


def _force(p: argparse.ArgumentParser, what: str = "outputs") -> None:
    p.add_argument("--force", action="store_true",
                   help=f"replace earlier {what}: an output folder only if symdnn wrote it "
                        "(never any other folder); an output file that exists, whatever it "
                        "holds")


def _target(p: argparse.ArgumentParser) -> None:
    """TARGET [DATA_DIR]: 'graph-challenge' and its data, or a network folder."""
    p.add_argument("target", metavar="TARGET", help="graph-challenge, or a network folder")
    p.add_argument("data_dir", metavar="DATA_DIR", nargs="?",
                   help="the Graph Challenge data (only with TARGET graph-challenge)")


def _challenge_size(p: argparse.ArgumentParser) -> None:
    """--neurons, --layers, --images: for TARGET graph-challenge only."""
    p.add_argument("--neurons", type=positive_int, default=None,
                   help="graph-challenge: network width (default 1024)")
    p.add_argument("--layers", type=positive_int, default=None,
                   help="graph-challenge: number of layers (default 120)")
    p.add_argument("--images", type=positive_int, default=None,
                   help="graph-challenge: only the first N images (default: all)")


def _threads(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=positive_int, default=None, metavar="N",
                   help="cut the batch into N chunks run concurrently; the result is identical "
                        "whatever N (default: every available core)")


def _dask(p: argparse.ArgumentParser, what: str, reads: str) -> None:
    p.add_argument("--dask", nargs="?", const="", default=None, metavar="ADDRESS",
                   help=f"distribute chunks of {what} over a dask.distributed cluster: its "
                        "scheduler ADDRESS, or without one a LocalCluster with one worker per "
                        f"core; every worker reads {reads} at the same path; the result is "
                        "identical (needs pip install 'symdnn[dask]')")


def _quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true",
                   help="no progress: neither the bar on a terminal nor the progress lines "
                        "otherwise")


def build_parser() -> argparse.ArgumentParser:
    """The ``symdnn`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="symdnn", formatter_class=HelpFormatter, epilog=EXIT_TEXT,
        description="Verify sparse ReLU deep neural networks in exact arithmetic "
                    "(Kepner et al., Sparse Deep Neural Network Exact Solutions, 2018).",
    )
    parser.add_argument("--version", action="version", version=f"symdnn {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an internal error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = _sub(sub, "demo", "the paper's two-letter network end to end: verify, thresholds, "
                "audit",
                "Build the two-letter-word network of the paper (Fig. 6), verify it exactly, "
                "derive every threshold r_d, reproduce Figs. 6 and 10, audit fp32/fp16/bf16 "
                "runs against exact arithmetic, and write a Markdown report with the figures "
                "to a new folder. Exit status 0 when every check passes, 1 when one fails.",
                C._cmd_demo)
    demo.add_argument("--out", default="symdnn-demo", metavar="DIR",
                      help="new folder for report.md and the figures (absent or empty, or an "
                           "earlier demo folder with --force)")
    _force(demo, "demo folders")
    _quiet(demo)

    gc = _sub(sub, "graph-challenge", "run the Sparse DNN Graph Challenge and check its "
              "categories",
              "Run the MIT/IEEE Sparse DNN Graph Challenge from its files (official layout "
              "DNN/neuronN/, MNIST/sparse-images-N.tsv, as 'symdnn data fetch "
              "graphchallenge-N' writes it, or a flat folder with neuronN/ beside the images; "
              "a bias.tsv beside them, as 'symdnn generate radixnet --style exact' writes, "
              "gives per-layer biases on every neuron instead of the official rule), print "
              "the categories and compare them with the official truth. Exit status: 0 "
              "match, 1 mismatch, 2 bad input, 3 no truth file to check against.",
              C._cmd_graph_challenge)
    gc.add_argument("data_dir", metavar="DATA_DIR", nargs="?",
                    help="the folder with the challenge files (or give --generate)")
    gc.add_argument("--generate", metavar="radixnet:NEURONS:LAYERS[:SEED]",
                    help="no files: make the RadiX-Net network 'symdnn generate radixnet' "
                         "would write layer by layer in memory and run it as it is made, on "
                         "--images random inputs (default 64, density 0.2, from SEED); memory "
                         "does not grow with depth; there is no truth (exit status 3)")
    gc.add_argument("--neurons", type=positive_int, default=None,
                    help="network width (default 1024)")
    gc.add_argument("--layers", type=positive_int, default=None,
                    help="number of layers (default 120)")
    gc.add_argument("--images", type=positive_int, default=None,
                    help="use only the first N images (default: all in the file)")
    gc.add_argument("--arith", default="exact", choices=ARITHS, help="arithmetic")
    gc.add_argument("--accumulate", default=None, choices=ACCUMULATE,
                    help="float runs: accumulation format (default: the --arith format)")
    _threads(gc)
    _dask(gc, "images", "DATA_DIR")
    gc.add_argument("--kernel", default="auto", choices=["auto", "scipy", "graphblas"],
                    help="exact runs: the sparse product of the engine's float64 and int64 "
                         "paths; auto is graphblas where python-graphblas is installed (the "
                         "result is identical)")
    _json(gc)
    _force(gc, "output files")
    _quiet(gc)

    build = _sub(sub, "build", "build an exact-solution network and write it to a new folder",
                 "Build one of the paper's exact-solution networks: selective (target words "
                 "and a layer scheme), combinatoric (Kronecker products of feature sets) or "
                 "images (MNIST IDX files), and write it with its model-problem inputs to a "
                 "new folder OUT. Schemes: single, pairs, chain, three2, or groups of letter "
                 "positions such as 12,34/1234 (layers split by /, groups by ,).",
                 C._cmd_build)
    what = build.add_mutually_exclusive_group(required=True)
    what.add_argument("--words", metavar="FILE", help="target words, one per line")
    what.add_argument("--builtin", metavar="NAME", choices=["words2", "words3", "words4"],
                      help="a bundled word list: words2 (the paper's 37), words3, words4")
    what.add_argument("--combinatoric", metavar="SIZES",
                      help="feature set sizes, e.g. 2,2,2,2 (the paper's section IV)")
    what.add_argument("--mnist", metavar="IMAGES",
                      help="an MNIST images IDX file (.gz or raw), e.g. "
                           "\"$(symdnn data path mnist)/t10k-images-idx3-ubyte.gz\" after "
                           "'symdnn data fetch mnist'")
    build.add_argument("--labels", metavar="FILE", help="MNIST labels IDX file")
    build.add_argument("--count", type=positive_int, default=None,
                       help="MNIST: number of images (default: all from --start on)")
    build.add_argument("--start", type=nonneg_int, default=0,
                       help="MNIST: index of the first image")
    build.add_argument("--contained", choices=["report", "drop"], default="report",
                       help="MNIST: images contained in others are reported or dropped")
    build.add_argument("--scheme", default="single", help="words: layer scheme")
    build.add_argument("--beta", default="1",
                       help="betas, one per layer or one for all, exact: e.g. 4/5,1")
    build.add_argument("--layers", type=int, default=2, choices=[1, 2],
                       help="combinatoric: two layers or the collapsed single layer")
    build.add_argument("--out", required=True, metavar="DIR",
                       help="new folder to write (absent or empty, or an earlier network "
                            "folder with --force)")
    build.add_argument("--plot", metavar="FILE", help="also draw W0 (.png, .svg or .pdf)")
    _force(build, "network folders and plot files")
    _quiet(build)

    ver = _sub(sub, "verify", "decide exactly whether a built network solves its model "
               "problem",
               "Feed the model problem's inputs (Y0 = W0^T of the single-layer solution) to a "
               "network written by 'symdnn build' and decide in exact arithmetic whether Y_L "
               "is the identity (or a positive diagonal). Exit status 0 when exact, 1 when "
               "not.", C._cmd_verify)
    ver.add_argument("dir", metavar="DIR", help="a folder written by 'symdnn build'")
    ver.add_argument("--formulation", default="fast",
                     choices=["fast", "reference", "standard", "oscillating", "collapsed"],
                     help="how Y_L is computed")
    _json(ver)
    _force(ver, "output files")
    _quiet(ver)

    thr = _sub(sub, "threshold", "exact perturbation thresholds r_d and P_d / P_fa of every "
               "category",
               "For every category c and letter position (feature) p, feature p of c's input "
               "takes the value r in [0, 2]. r_d is the smallest r with c selected (the "
               "unique positive maximum of the output) for every r' in (r, 2], null when c is "
               "not selected at r = 2. Computed exactly (piecewise-linear in r) and compared "
               "with the closed form. A network that is not an exact solution gets no "
               "thresholds: the command says why and exits 1 (with --force it gives them, "
               "flagged). The network comes from --words/--builtin with --scheme and --beta "
               "(as in 'symdnn build') or from a folder DIR written by build.",
               C._cmd_threshold)
    thr.add_argument("dir", metavar="DIR", nargs="?", help="a folder written by symdnn build")
    src = thr.add_mutually_exclusive_group()
    src.add_argument("--words", metavar="FILE", help="target words, one per line")
    src.add_argument("--builtin", metavar="NAME", choices=["words2", "words3", "words4"],
                     help="a bundled word list")
    thr.add_argument("--scheme", default="single", help="layer scheme")
    thr.add_argument("--beta", default="1", help="betas, exact: e.g. 4/5,1")
    _json(thr)
    thr.add_argument("--plot", metavar="FILE",
                     help="draw P_d(r) and P_fa(r) (Fig. 10; .png, .svg or .pdf)")
    thr.add_argument("--csv", metavar="FILE", help="write the r_d table as CSV")
    thr.add_argument("--markdown", metavar="FILE", help="write the r_d table as Markdown")
    thr.add_argument("--force", action="store_true",
                     help="give the thresholds of a network that is not an exact solution too "
                          "(flagged as such; exit 0), and replace earlier output files")
    _quiet(thr)

    aud = _sub(sub, "audit", "cross-check float runs against exact arithmetic, layer by layer",
               "Run exact arithmetic and float runs in lockstep and report where the float "
               "runs depart from the truth: pre-activations exactly zero that turn positive or "
               "negative, flipped ReLU and cap decisions, ulps, categories. TARGET is "
               "'graph-challenge' followed by its DATA_DIR, or a folder written by 'symdnn "
               "build' (its model-problem inputs are used). Exit status 1 when a --fail-on "
               "policy is violated (default: categories differ from exact).", C._cmd_audit)
    _target(aud)
    aud.add_argument("--formats", default=None,
                     help="symdnn's own runs, comma-separated: fp64, fp32, fp16, bf16, "
                          "fp8_e4m3, fp8_e5m2, int8, or 'none' (default fp64,fp32,fp16,bf16; "
                          "none when --run is given)")
    aud.add_argument("--run", action="append", default=None, metavar="NAME=PATH[:FORMAT]",
                     help="audit an implementation from its own output files: PATH is a folder "
                          "of layer-{l}.tsv[.gz], .mtx[.gz] or .npz files (1-based input row, "
                          "1-based neuron, value: post-activations; optional pre-{l}.* with "
                          "pre-activations), any subset of layers, the last one required. "
                          "FORMAT is the format it computed in (default fp64): ulps are "
                          "counted in it. Repeatable; see docs/audit.md")
    aud.add_argument("--dump", metavar="DIR",
                     help="write symdnn's own float runs to a new folder DIR/<run>/ in the "
                          "--run layout (layer-{l} and pre-{l} files)")
    aud.add_argument("--dump-format", default="npz", choices=["npz", "tsv"],
                     help="file form for --dump: npz (scipy CSR, compact; default) or tsv "
                          "(text, C99 hex floats, exact)")
    aud.add_argument("--accumulate", default=None, choices=ACCUMULATE + ["same"],
                     help="accumulation format for the float runs; 'same' accumulates in each "
                          "format (default: the format for fp64/fp32, fp32 for the others)")
    _challenge_size(aud)
    _json(aud)
    aud.add_argument("--report", metavar="DIR",
                     help="write report.json, report.md and plots to a new folder")
    aud.add_argument("--fail-on", action="append", default=None, metavar="KIND[:N]",
                     help="fail when a run's total of KIND exceeds N (default 0); kinds: "
                          "categories, truth, sign_flip, zero_to_pos, zero_to_neg, cap_flip, "
                          "missing, spurious, spurious_pos, max_ulp. Repeatable; without it: "
                          "categories")
    aud.add_argument("--thresholds", action="store_true",
                     help="network folders: also compare float r_d and P_d with exact ones "
                          "(every representable r in [0, 2] for fp16, bf16, fp8)")
    _threads(aud)
    aud.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                     help="audit symdnn's own formats in N processes, the float runs dealt "
                          "out to them, the layers read and the exact run computed once; the "
                          "report is identical whatever N (default: every available core; "
                          "--threads applies with --jobs 1, and to foreign runs)")
    _dask(aud, "inputs", "TARGET (and every --run folder)")
    _force(aud, "reports and output files")
    _quiet(aud)

    cert = _sub(sub, "certify", "prove which float formats reproduce every decision, for any "
                "summation order",
                "Compute the exact margin of every decision (ReLU, cap, the Graph Challenge "
                "rule's bias test, the final argmax and category) and a rigorous bound on how "
                "far any implementation in each format can be from the exact pre-activation, "
                "whatever order it sums in (docs/certificates.md). A decision is certified "
                "when its bound is below its margin or the bound is zero (the float "
                "computation is provably exact there). TARGET is 'graph-challenge' followed by "
                "its DATA_DIR, or a folder written by 'symdnn build' (its model-problem inputs "
                "are used). Exit status 0 when every format asked for is certified, 1 when "
                "one is not. 'symdnn certify --check CERT.json NET INPUTS' checks a "
                "certificate written with --json again (the sha256 of NET's files and of "
                "INPUTS, then every key recomputed); the standard-library checker is "
                "'python -m symdnn.certify.check_cert CERT.json NET INPUTS'.", C._cmd_certify)
    cert.add_argument("target", metavar="TARGET", nargs="?",
                      help="graph-challenge, or a network folder")
    cert.add_argument("data_dir", metavar="DATA_DIR", nargs="?",
                      help="the Graph Challenge data (only with TARGET graph-challenge)")
    cert.add_argument("--check", nargs=3, metavar=("CERT.json", "NET", "INPUTS"), default=None,
                      help="check a certificate: NET is the DATA_DIR (graph-challenge) or the "
                           "network folder, INPUTS the images file or the folder's inputs.tsv; "
                           "exit 0 certified, 1 not certified or wrong, 2 unreadable")
    cert.add_argument("--formats", default="fp64,fp32,fp16,bf16",
                      help="float formats to certify, comma-separated: fp64, fp32, fp16, "
                           "bf16, fp8_e4m3, fp8_e5m2")
    cert.add_argument("--accumulate", default=None, choices=ACCUMULATE + ["same"],
                      help="accumulation format of the implementations: 'same' accumulates "
                           "each format in itself (default: the format for fp64/fp32, fp32 "
                           "for the others, as 'symdnn audit')")
    cert.add_argument("--report", metavar="DIR", default=None,
                      help="write report.md (the verdict per format; per layer the smallest "
                           "exact margin and each format's error bound; the decisions at "
                           "risk), details.json (every number exactly) and certificate.png "
                           "(margins and bounds per layer, log scale) to a new or empty folder")
    _challenge_size(cert)
    _json(cert)
    _force(cert, "output files and an earlier --report folder")
    _quiet(cert)

    wit = _sub(sub, "witness", "replay a verifier's counterexample exactly: is it genuine?",
               "Replay a VNN-COMP counterexample exactly (docs/witness.md): is its input "
               "inside the property's box as written and as float32, and do the network's "
               "exact outputs violate the property, with what exact margin; and what "
               "VNN-COMP's float32 replay with its 1e-4 tolerance decides. Give NET.onnx "
               "PROP.vnnlib CE_FILE for one counterexample (exit 0 when genuine, 1 when "
               "not), or --results RESULTS_DIR --benchmarks BENCH_DIR for every "
               "counterexample of a VNN-COMP results folder (exit 0 when all are genuine; "
               "a Markdown summary on stdout).", C._cmd_witness)
    wit.add_argument("net", metavar="NET.onnx", nargs="?", help="the network (.onnx[.gz])")
    wit.add_argument("prop", metavar="PROP.vnnlib", nargs="?",
                     help="the property (.vnnlib[.gz])")
    wit.add_argument("counterexample", metavar="CE_FILE", nargs="?",
                     help="the counterexample ((X_0 v) ... (Y_0 v) ...), optionally gzipped")
    wit.add_argument("--results", metavar="RESULTS_DIR",
                     help="a VNN-COMP results folder: <tool>/<category>/"
                          "<network>_<property>.counterexample[.gz]")
    wit.add_argument("--benchmarks", metavar="BENCH_DIR",
                     help="with --results: <category>/onnx/<network>.onnx[.gz] and "
                          "<category>/vnnlib/<property>.vnnlib[.gz]")
    _json(wit)
    wit.add_argument("--csv", metavar="FILE", help="with --results: one row per "
                     "counterexample, as CSV")
    wit.add_argument("--no-onnxruntime", action="store_true",
                     help="skip the onnxruntime float32 replay (and so vnncomp_verdict)")
    wit.add_argument("--rules", choices=list(WITNESS_RULES), default="2025",
                     help="whose VNN-COMP checker vnncomp_verdict follows: 2023 and 2025 judge "
                          "the property on the outputs the tool wrote (1e-4 tolerance, after "
                          "comparing them with onnxruntime's), 2026 on onnxruntime's "
                          "(default 2025)")
    wit.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                     help="with --results: replay N networks at once, each in its own "
                          "process (default 1)")
    wit.add_argument("--markdown", metavar="FILE",
                     help="also write the Markdown summary (the table per benchmark and "
                          "tool) to FILE")
    wit.add_argument("--plot", metavar="FILE",
                     help="with --results: plot the margins per benchmark (.png, .svg or "
                          ".pdf)")
    _force(wit, "output files")
    _quiet(wit)

    inf = _sub(sub, "infer", "run a network on inputs, exactly or in a float format",
               "Run a network folder written by 'symdnn build' on its model-problem inputs or "
               "on --inputs FILE (row<TAB>col<TAB>value triples, exact), print the selected "
               "category of every input (the unique positive maximum) and write the outputs "
               "as triples.", C._cmd_infer)
    inf.add_argument("dir", metavar="DIR", help="a folder written by 'symdnn build'")
    inf.add_argument("--inputs", metavar="FILE",
                     help="inputs as TSV triples (default: the folder's inputs.tsv)")
    inf.add_argument("--arith", default="exact", choices=ARITHS, help="arithmetic")
    inf.add_argument("--accumulate", default=None, choices=ACCUMULATE,
                     help="float runs: accumulation format (default: the --arith format)")
    inf.add_argument("--out", metavar="FILE", help="write the outputs here (TSV triples)")
    _force(inf, "output files")

    ss = command_group(
        sub, "suite", "build, verify and grade certified reference suites",
        "Certified reference suites: a network, inputs, exact outputs, correctly rounded "
        "outputs per float format, categories, thresholds where defined, and a manifest with "
        "the sha256 of every file.", "suite_command", "ACTION")
    sb = _sub(ss, "build", "write a suite for a network",
              "NET_DIR is a folder written by 'symdnn build' or a Graph Challenge folder "
              "(give --neurons and --layers). The suite goes to a new folder OUT, never the "
              "network folder or inside it.", C._cmd_suite_build)
    sb.add_argument("net_dir", metavar="NET_DIR", help="the network folder")
    sb.add_argument("--out", required=True, metavar="DIR",
                    help="new folder for the suite (absent or empty, or an earlier suite "
                         "with --force)")
    sb.add_argument("--formats", default="fp64,fp32,fp16,bf16",
                    help="comma-separated float formats of the rounded outputs")
    sb.add_argument("--inputs", metavar="FILE", help="inputs to use instead of the folder's")
    sb.add_argument("--neurons", type=positive_int, default=None,
                    help="Graph Challenge folders: network width")
    sb.add_argument("--layers", type=positive_int, default=None,
                    help="Graph Challenge folders: number of layers")
    _threads(sb)
    _dask(sb, "inputs", "NET_DIR (and --inputs)")
    _force(sb, "suites")
    _quiet(sb)
    sv = _sub(ss, "verify", "recompute a suite exactly and check every hash, two ways",
              "Two independent verdicts: symdnn's own (the manifest covers every file and "
              "parameter, nothing unlisted, nothing outside the folder, every expected file "
              "recomputed exactly), and the suite's own check.py (standard library only, run "
              "with 'python -I' in a subprocess). Exit status 0 when both verify, 1 "
              "otherwise.", C._cmd_suite_verify)
    sv.add_argument("dir", metavar="DIR", help="the suite folder")
    sv.add_argument("--digest", metavar="HEX", default=None,
                    help="also check the suite's root digest against one recorded elsewhere "
                         "(printed by 'symdnn suite build')")
    sv.add_argument("--no-checker", action="store_true",
                    help="skip the suite's shipped check.py (pure Python: slow on large "
                         "suites); by default it runs in a subprocess beside symdnn's check")
    _json(sv)
    _force(sv, "output files")
    _quiet(sv)
    sg = _sub(ss, "grade", "grade an implementation's outputs against a suite",
              "RESULTS holds image<TAB>neuron<TAB>value lines (1-based, decimals or hex "
              "floats). With --format each output must be within --max-ulp ulps of the "
              "correctly rounded expected value; without, exactly equal to the exact output. "
              "Exit status 1 names the outputs that are off.", C._cmd_suite_grade)
    sg.add_argument("dir", metavar="DIR", help="the suite folder")
    sg.add_argument("results", metavar="RESULTS", help="the implementation's outputs")
    sg.add_argument("--format", default=None, dest="fmt",
                    choices=["fp64", "fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2"],
                    help="the format the outputs were computed in (default: exact comparison)")
    sg.add_argument("--max-ulp", type=nonneg_int, default=0,
                    help="ulps allowed from the correctly rounded value")
    _json(sg)
    _force(sg, "output files")

    gs = command_group(
        sub, "generate", "generate large networks, streamed to disk",
        "Write a RadiX-Net-style network (mixed-radix layers extended by a Kronecker product) "
        "in the Graph Challenge layout, layer by layer, with random 0/1 inputs.",
        "gen_command", "KIND")
    gr = _sub(gs, "radixnet", "a RadiX-Net-style network",
              "Write DNN/neuronN/nN-l{1..L}.tsv and MNIST/sparse-images-N.tsv to a new folder "
              "OUT (about 20 bytes per weight: 1024 x 120 is about 80 MB, 4096 x 480 about "
              "1.3 GB). The folder appears only when complete.", C._cmd_generate_radixnet)
    gr.add_argument("--neurons", type=positive_int, default=1024, help="network width")
    gr.add_argument("--layers", type=positive_int, default=120, help="number of layers")
    gr.add_argument("--radices", type=int_list, default=None,
                    help="mixed radices, e.g. 2,2,2,2,2,2,2,2 (with --kron; default: chosen "
                         "for --neurons)")
    gr.add_argument("--kron", type=positive_int, default=None,
                    help="Kronecker factor (with --radices)")
    gr.add_argument("--style", choices=["graph-challenge", "exact"], default="graph-challenge",
                    help="weights 1/16 with the official bias, or weights 1 with the "
                         "exact-solution bias beta - fan-in in bias.tsv")
    gr.add_argument("--beta", type=exact_number, default="1",
                    help="style exact: the beta of the bias rule")
    gr.add_argument("--inputs", type=positive_int, default=64, help="number of random inputs")
    gr.add_argument("--density", type=density, default=0.5,
                    help="fraction of input features that are 1")
    gr.add_argument("--seed", type=nonneg_int, default=0, help="random seed of the inputs")
    gr.add_argument("--out", required=True, metavar="DIR",
                    help="new folder (absent or empty, or an earlier generated network with "
                         "--force)")
    _force(gr, "generated networks")
    _quiet(gr)

    add_data_parser(sub)
    return parser
