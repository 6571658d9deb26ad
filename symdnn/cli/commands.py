"""The commands: each checks its inputs and outputs before any work, calls the public API,
and returns an exit status (see :mod:`symdnn.cli`). No logic of their own."""

from __future__ import annotations

import argparse
import contextlib
import sys

from symdnn.analysis import analyze
from symdnn.assoc import AssocArray
from symdnn.audit import Run, audit_graph_challenge, audit_network, default_runs, parse_policy
from symdnn.audit.files import dump_runs
from symdnn.audit.thresholds import threshold_audit
from symdnn.certify import certify, certify_graph_challenge
from symdnn.certify.picture import REPORT_KIND, write_certificate_report
from symdnn.certify.recheck import challenge_files, folder_files, recheck
from symdnn.challenge import run_challenge
from symdnn.cli.support import (
    EXIT,
    Progress,
    Status,
    call_progress,
    cli_words,
    distinct_outputs,
    emit,
    input_paths,
    output_file,
    parse_betas,
    parse_formats,
    parse_run_specs,
)
from symdnn.constructions import build_construction, load_construction, write_construction
from symdnn.demo import full_demo, run_demo
from symdnn.errors import ArgumentError
from symdnn.generators import generate_radixnet
from symdnn.io.outputs import check_output_folder, command_outputs
from symdnn.io.runfiles import RunFolder
from symdnn.io.vnnlib import read_counterexample, read_vnnlib
from symdnn.network import read_network
from symdnn.plotting import plot_margins
from symdnn.results import Result
from symdnn.suite import build_suite, grade_suite, root_digest, verify_suite
from symdnn.witness import import_onnx
from symdnn.witness.batch import replay_results
from symdnn.witness.replay import replay

__all__: list[str] = []

PLOTS = (".png", ".svg", ".pdf")


def _check_folder(path: str, kind: str, args: argparse.Namespace, *inputs: str | None) -> None:
    check_output_folder(path, kind, force=args.force,
                        inputs=[i for i in inputs if i] + input_paths(args),
                        what="--report" if kind in ("audit-report", REPORT_KIND) else "--out")


def _rendered(result: Result, args: argparse.Namespace, *, ok: bool | None) -> int:
    """Render a result: as JSON where ``--json`` says, as text on stdout unless the JSON went
    there; then the exit status of ``ok`` (None: there was nothing to check)."""
    if args.json is not None:
        emit(result, "json", args.json, args)
    if args.json != "-":
        emit(result, "text", "-", args)
    if ok is None:
        return EXIT["nothing_to_check"]
    return EXIT["ok"] if ok else EXIT["check_failed"]


def _challenge_target(args: argparse.Namespace, command: str) -> bool:
    """Whether TARGET is the Graph Challenge; checks DATA_DIR and the size options against
    it (a network folder brings its own inputs and takes neither)."""
    gc = args.target == "graph-challenge"
    if gc and args.data_dir is None:
        raise ArgumentError(f"{command} graph-challenge needs DATA_DIR")
    if not gc:
        if args.data_dir is not None:
            raise ArgumentError(f"DATA_DIR {args.data_dir!r} is only for TARGET "
                                "graph-challenge; a network folder brings its own inputs")
        given = [o for o, v in (("--neurons", args.neurons), ("--layers", args.layers),
                                ("--images", args.images)) if v is not None]
        if given:
            raise ArgumentError(f"{', '.join(given)}: only for TARGET graph-challenge")
    return gc


def _cmd_infer(args: argparse.Namespace) -> int:
    if args.accumulate and args.arith == "exact":
        raise ArgumentError("--accumulate is for float --arith runs; exact arithmetic has none")
    output_file(args.out, args, "--out")
    net, info = read_network(args.dir)
    Y0 = AssocArray.read_tsv(args.inputs, domain="QQ") if args.inputs else info["inputs"]
    if Y0 is None:
        raise ArgumentError(f"{args.dir} has no inputs.tsv: give --inputs FILE")
    res = net.infer(Y0, arith=args.arith, accumulate=args.accumulate)
    for key, winner, nonzero in res.winners():
        print(f"{key}\t{'-' if winner is None else winner}\t{nonzero} outputs nonzero")
    if args.out:
        res.output.write_tsv(args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    return EXIT["ok"]


def _cmd_suite_build(args: argparse.Namespace) -> int:
    formats = parse_formats(args.formats)
    _check_folder(args.out, "suite", args, args.net_dir, args.inputs)
    out = build_suite(args.net_dir, args.out, formats=tuple(formats), neurons=args.neurons,
                      layers=args.layers, inputs=args.inputs, force=args.force,
                      threads=args.threads, dask=args.dask,
                      progress=call_progress(args.quiet, "suite build"))
    print(f"wrote suite {out}")
    print(f"root digest: {root_digest(out)}  (record it; 'symdnn suite verify {out} --digest "
          "HEX' checks that not one byte changed)")
    return EXIT["ok"]


def _cmd_suite_verify(args: argparse.Namespace) -> int:
    output_file(args.json, args, "--json")
    check = verify_suite(args.dir, progress=call_progress(args.quiet, "suite verify"),
                         digest=args.digest, checker=not args.no_checker)
    return _rendered(check, args, ok=check.ok)


def _cmd_suite_grade(args: argparse.Namespace) -> int:
    if args.fmt is None and args.max_ulp:
        raise ArgumentError("--max-ulp needs --format (without it outputs are compared exactly)")
    output_file(args.json, args, "--json")
    grade = grade_suite(args.dir, args.results, fmt=args.fmt, max_ulp=args.max_ulp)
    return _rendered(grade, args, ok=grade.ok)


def _cmd_generate_radixnet(args: argparse.Namespace) -> int:
    if (args.radices is None) != (args.kron is None):
        raise ArgumentError("give --radices and --kron together, or neither")
    if args.style != "exact" and args.beta != 1:
        raise ArgumentError("--beta is for --style exact (the official style has a fixed bias)")
    _check_folder(args.out, "radixnet", args)
    out = generate_radixnet(args.out, neurons=args.neurons, layers=args.layers,
                            radices=args.radices, kron=args.kron, style=args.style,
                            beta=args.beta, inputs=args.inputs, density=args.density,
                            seed=args.seed, force=args.force,
                            progress=call_progress(args.quiet, "generate"))
    print(f"wrote {out}: {args.layers} layers of {args.neurons} neurons, {args.inputs} inputs")
    return EXIT["ok"]


def _cmd_audit(args: argparse.Namespace) -> int:
    if args.formats is not None and args.formats.strip() == "none":
        formats = []
    elif args.formats is None and args.run:
        formats = []
    else:
        formats = parse_formats("fp64,fp32,fp16,bf16" if args.formats is None else args.formats,
                                allow=("int8",))
    if args.dump and not formats:
        raise ArgumentError("--dump writes symdnn's own runs: ask for some with --formats")
    if args.dump_format != "npz" and not args.dump:
        raise ArgumentError("--dump-format is for --dump DIR")
    own = default_runs(formats, args.accumulate)
    specs = parse_run_specs(args.run, [r.name for r in own])
    args.run_paths = [p for _, p, _ in specs]
    if not own and not specs:
        raise ArgumentError("nothing to audit: give --formats, --run, or both")
    try:
        policy = parse_policy(args.fail_on if args.fail_on is not None else ["categories"])
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None
    gc = _challenge_target(args, "audit")
    if gc and args.thresholds:
        raise ArgumentError("--thresholds applies to network folders built by 'symdnn build', "
                            "not to the Graph Challenge")
    distinct_outputs(args.json, args.report, args.dump)
    output_file(args.json, args, "--json")
    if args.report:
        _check_folder(args.report, "audit-report", args, args.target, args.data_dir)
    if args.dump:
        check_output_folder(args.dump, "audit-dump", force=args.force,
                            inputs=input_paths(args), what="--dump")
    runs = own + [Run.files(RunFolder(path, fmt=fmt, name=name), fmt, name)
                  for name, path, fmt in specs]
    progress = call_progress(args.quiet, "audit")
    written: list[str] = []
    # the report, the JSON and the dump are put in place together, or none of them
    with command_outputs([args.report, args.json, args.dump]), \
            contextlib.ExitStack() as stack:
        on_layer = None
        if args.dump:
            on_layer = stack.enter_context(dump_runs(args.dump, form=args.dump_format,
                                                     force=args.force,
                                                     inputs=input_paths(args),
                                                     what="--dump"))
        if gc:
            report = audit_graph_challenge(args.data_dir, neurons=args.neurons or 1024,
                                           layers=args.layers or 120, images=args.images,
                                           runs=runs, progress=progress, on_layer=on_layer,
                                           threads=args.threads, dask=args.dask,
                                           jobs=args.jobs)
        else:
            c = load_construction(args.target)
            report = audit_network(c.net, c.inputs, runs=runs, name=args.target,
                                   progress=progress, on_layer=on_layer,
                                   threads=args.threads, dask=args.dask, jobs=args.jobs)
        # every other output is written while the dump is still a temporary folder, and the
        # dump (the largest) is renamed into place last, when the block ends
        if not gc and args.thresholds:
            with Status("audit", "thresholds at every representable r",
                        quiet=args.quiet):
                report.thresholds = threshold_audit(c, formats, accumulate=args.accumulate)
        if args.report:
            from symdnn.plotting import plot_audit

            written += report.write(args.report, force=args.force, figures=plot_audit)
        if args.json is not None:
            emit(report, "json", args.json, args, say=False)
            if args.json != "-":
                written.append(args.json)
    for p in written + ([args.dump] if args.dump else []):
        print(f"wrote {p}", file=sys.stderr)
    if args.json != "-":
        emit(report, "markdown", "-", args)
    bad = report.violations(policy)
    for line in bad:
        print(f"policy violated: {line}", file=sys.stderr)
    return EXIT["check_failed"] if bad else EXIT["ok"]


def _cmd_certify(args: argparse.Namespace) -> int:
    if args.check is not None:
        if args.target is not None:
            raise ArgumentError("--check takes CERT.json NET INPUTS, not a TARGET")
        if args.report is not None:
            raise ArgumentError("--report is for certifying, not for --check")
        r = recheck(*args.check, progress=call_progress(args.quiet, "certify --check"))
        print(r.summary())
        return EXIT["ok"] if r.status == 0 else EXIT["check_failed"]
    if args.target is None:
        raise ArgumentError("give a TARGET (graph-challenge DATA_DIR, or a network folder), "
                            "or --check CERT.json NET INPUTS")
    formats = parse_formats(args.formats)
    gc = _challenge_target(args, "certify")
    distinct_outputs(args.json, args.report)
    output_file(args.json, args, "--json")
    if args.report is not None:
        _check_folder(args.report, REPORT_KIND, args, args.target, args.data_dir)
    with command_outputs([args.report, args.json]):  # all of them, or none
        return _certify_outputs(args, formats, gc)


def _certify_outputs(args: argparse.Namespace, formats: list, gc: bool) -> int:
    """Certify, then write what ``symdnn certify`` writes (in :func:`command_outputs`)."""
    progress = call_progress(args.quiet, "certify")
    if gc:
        neurons, layers = args.neurons or 1024, args.layers or 120
        cert = certify_graph_challenge(args.data_dir, formats=formats, neurons=neurons,
                                       layers=layers, images=args.images,
                                       accumulate=args.accumulate, progress=progress)
        cert.source, cert.sha256 = challenge_files(args.data_dir, neurons=neurons,
                                                   layers=layers, images=len(cert.batch))
    else:
        c = load_construction(args.target)
        cert = certify(c.net, c.inputs, formats=formats, accumulate=args.accumulate,
                       name=args.target, progress=progress)
        cert.source, cert.sha256 = folder_files(args.target)
    if args.report is not None:
        from symdnn.plotting import plot_certificate
        for path in write_certificate_report(
                cert, args.report, force=args.force, plot=plot_certificate,
                inputs=[p for p in (args.target, args.data_dir) if p] + input_paths(args)):
            print(f"wrote {path}", file=sys.stderr)
    return _rendered(cert, args, ok=cert.certified)


def _cmd_witness(args: argparse.Namespace) -> int:
    single = [args.net, args.prop, args.counterexample]
    if args.results is not None or args.benchmarks is not None:
        if any(single):
            raise ArgumentError("give NET.onnx PROP.vnnlib CE_FILE, or --results and "
                                "--benchmarks, not both")
        if args.results is None or args.benchmarks is None:
            raise ArgumentError("--results and --benchmarks go together")
        return _witness_batch(args)
    if not all(single):
        raise ArgumentError("give NET.onnx PROP.vnnlib CE_FILE (or --results RESULTS_DIR "
                            "--benchmarks BENCH_DIR)")
    for value, what in ((args.csv, "--csv"), (args.plot, "--plot"),
                        (args.jobs != 1 or None, "--jobs")):
        if value is not None:
            raise ArgumentError(f"{what} is for --results (every counterexample of a "
                                "results folder)")
    distinct_outputs(args.json, args.markdown)
    output_file(args.json, args, "--json")
    output_file(args.markdown, args, "--markdown")
    graph = import_onnx(args.net)
    prop = read_vnnlib(args.prop)
    ce = read_counterexample(args.counterexample)
    w = replay(graph, prop, ce, onnxruntime=not args.no_onnxruntime, rules=args.rules,
               labels={"network": args.net, "property": args.prop,
                       "counterexample": args.counterexample, "vnncomp_rules": args.rules,
                       "malformed": ce.malformed})
    if args.markdown is not None:
        emit(w, "markdown", args.markdown, args, "--markdown")
    return _rendered(w, args, ok=w.genuine is True)  # UNDECIDED: not shown genuine, exit 1


def _witness_batch(args: argparse.Namespace) -> int:
    distinct_outputs(args.json, args.csv, args.markdown, args.plot)
    if "-" in (args.json, args.markdown):
        raise ArgumentError("with --results, give --json and --markdown a FILE (the "
                            "Markdown summary goes to stdout)")
    for path, what, sfx in ((args.json, "--json", None), (args.csv, "--csv", None),
                            (args.markdown, "--markdown", None), (args.plot, "--plot", PLOTS)):
        output_file(path, args, what, suffixes=sfx)
    report = replay_results(args.results, args.benchmarks,
                            onnxruntime=not args.no_onnxruntime, jobs=args.jobs,
                            rules=args.rules,
                            progress=None if args.quiet else Progress("witness",
                                                                      "counterexamples"))
    outputs = [args.json, args.csv, args.markdown, args.plot]
    with command_outputs(outputs):  # all of them, or none
        if args.json is not None:
            emit(report, "json", args.json, args, say=False)
        if args.csv is not None:
            emit(report, "csv", args.csv, args, "--csv", say=False)
        if args.markdown is not None:
            emit(report, "markdown", args.markdown, args, "--markdown", say=False)
        if args.plot is not None:
            plot_margins(report.rows, args.plot)
    for p in outputs:
        if p is not None:
            print(f"wrote {p}", file=sys.stderr)
    emit(report, "markdown", "-", args)
    if not report.rows:
        return EXIT["nothing_to_check"]
    return EXIT["ok"] if len(report.genuine) == len(report.rows) else EXIT["check_failed"]


def _cmd_threshold(args: argparse.Namespace) -> int:
    if (args.dir is None) == (args.words is None and args.builtin is None):
        raise ArgumentError("give a network folder DIR, or --words FILE or --builtin NAME")
    distinct_outputs(args.csv, args.markdown, args.plot, args.json)
    for path, what, sfx in ((args.csv, "--csv", None), (args.markdown, "--markdown", None),
                            (args.plot, "--plot", PLOTS), (args.json, "--json", None)):
        output_file(path, args, what, suffixes=sfx)
    if args.dir is not None:
        c = load_construction(args.dir)
    else:
        c = build_construction(words=args.words, builtin=args.builtin, scheme=args.scheme,
                               betas=parse_betas(args.beta))
    with Status("threshold", f"verifying and analysing {len(c.categories)} categories",
                quiet=args.quiet):
        report = analyze(c, exact_only=not args.force)
    # --csv, --markdown, --plot and --json are put in place together, or none of them
    with command_outputs([args.csv, args.markdown, args.plot, args.json]):
        status = _threshold_outputs(report, args)
    if args.json not in (None, "-"):
        print(f"wrote {args.json}", file=sys.stderr)
    return status


def _threshold_outputs(report, args: argparse.Namespace) -> int:
    """Write what ``symdnn threshold`` writes (in :func:`command_outputs`); the status."""
    if report.withheld:
        if args.json is not None:
            emit(report, "json", args.json, args, say=False)
        print(f"symdnn threshold: NOT an exact solution: {report.reason}\nno thresholds for "
              "a network that is not an exact solution (see 'symdnn verify'); --force gives "
              "them anyway, flagged", file=sys.stderr)
        return EXIT["check_failed"]
    if args.csv:
        emit(report, "csv", args.csv, args, "--csv", say=False)
    if args.markdown:
        emit(report, "markdown", args.markdown, args, "--markdown", say=False)
    if args.plot:
        from symdnn.plotting import plot_thresholds

        plot_thresholds(report, args.plot)
    if not report.exact:
        print(f"WARNING: NOT an exact solution, thresholds given only because of --force: "
              f"{report.reason}", file=sys.stderr)
    if args.json is not None:
        emit(report, "json", args.json, args, say=False)
        if args.json == "-":
            return EXIT["ok"]
    if not report.exact:
        print("WARNING: NOT an exact solution (the model problem fails; see 'symdnn verify'). "
              "These thresholds do not describe an exact network (--force).")
    emit(report, "text", "-", args)
    return EXIT["ok"]


def _cmd_build(args: argparse.Namespace) -> int:
    betas = parse_betas(args.beta)
    if args.mnist is None:
        stray = [o for o, v, d in (("--labels", args.labels, None), ("--count", args.count, None),
                                   ("--start", args.start, 0),
                                   ("--contained", args.contained, "report")) if v != d]
        if stray:
            raise ArgumentError(f"{', '.join(stray)}: only for --mnist")
    elif args.scheme != "single" or args.beta != "1":
        raise ArgumentError("--scheme and --beta are for word and combinatoric networks, not "
                            "--mnist")
    if args.combinatoric is None and args.layers != 2:
        raise ArgumentError("--layers is only for --combinatoric")
    distinct_outputs(args.out, args.plot)
    _check_folder(args.out, "network", args)
    output_file(args.plot, args, "--plot", suffixes=PLOTS)
    with Status("build", "building the network", quiet=args.quiet):
        c = build_construction(words=args.words, builtin=args.builtin, sizes=args.combinatoric,
                               mnist=args.mnist, labels=args.labels, count=args.count,
                               start=args.start, contained=args.contained, scheme=args.scheme,
                               betas=betas, layers=args.layers)
    with command_outputs([args.out, args.plot]):  # the network and its plot, or neither
        write_construction(c, args.out, force=args.force)
        if args.plot:
            from symdnn.plotting import spy

            spy(c.net.layers[0].W, args.plot, title=f"W0 ({c.name})")
    print(f"wrote {args.out}: {cli_words(c.summary())}")
    if args.plot:
        print(f"wrote {args.plot}")
    return EXIT["ok"]


def _cmd_verify(args: argparse.Namespace) -> int:
    output_file(args.json, args, "--json")
    c = load_construction(args.dir)
    with Status("verify", f"{len(c.categories)} categories", quiet=args.quiet):
        v = c.verify(formulation=args.formulation)
    return _rendered(v, args, ok=v.exact)


def _cmd_graph_challenge(args: argparse.Namespace) -> int:
    if args.accumulate and args.arith == "exact":
        raise ArgumentError("--accumulate is for float --arith runs; exact arithmetic has none")
    output_file(args.json, args, "--json")
    if args.data_dir is not None and args.generate is not None:
        raise ArgumentError("give DATA_DIR or --generate radixnet:NEURONS:LAYERS[:SEED], "
                            "not both")
    if args.data_dir is None and args.generate is None:
        raise ArgumentError("give DATA_DIR, or --generate radixnet:NEURONS:LAYERS[:SEED]")
    if args.generate and (args.neurons or args.layers):
        raise ArgumentError("--generate gives the width and depth itself "
                            "(radixnet:NEURONS:LAYERS); leave out --neurons and --layers")
    size = {} if args.generate else {"neurons": args.neurons or 1024,
                                     "layers": args.layers or 120}
    result = run_challenge(args.data_dir, **size, generate=args.generate,
                           images=args.images, arith=args.arith, accumulate=args.accumulate,
                           threads=args.threads, kernel=args.kernel, dask=args.dask,
                           progress=call_progress(args.quiet, f"graph-challenge {args.arith}"))
    return _rendered(result, args, ok=result.matches)


def _cmd_demo(args: argparse.Namespace) -> int:
    _check_folder(args.out, "demo", args)
    emit(run_demo(), "markdown", "-", args)
    with Status("demo", "thresholds, Fig. 10 and the float audit", quiet=args.quiet):
        ok, path = full_demo(args.out, force=args.force)
    print(f"\nthresholds, Fig. 10 and the float audit: {'all checks pass' if ok else 'FAILED'}")
    print(f"report: {path}")
    return EXIT["ok"] if ok else EXIT["check_failed"]
