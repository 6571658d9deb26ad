"""Bounded on every input: no hang, no runaway (issue 25, items 4, 5, 6 and 14).

A number, a property, a size or a counterexample that would take minutes, gigabytes or an
internal error is refused at once, with exit status 2 and a message naming the option, or
the file and line. The command-line tests run ``symdnn`` in a subprocess with a timeout, so
a regression shows as a failure, not as a hung test run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import subprocess
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest

from symdnn.cli.support import exact_number, parse_betas
from symdnn.constructions import combinatoric
from symdnn.constructions.build import build_construction, load_construction, write_construction
from symdnn.domains.rational import exact_parts
from symdnn.errors import ArgumentError, DomainError, ParseError
from symdnn.generators.radixnet import generate_radixnet
from symdnn.io.vnnlib import MAX_BITS, parse_counterexample, parse_vnnlib
from symdnn.witness import import_onnx
from symdnn.witness.replay import replay
from tests.datafiles import data_file
from tests.forked import run_cli

ROOT = Path(__file__).resolve().parents[1]
#: seconds a refused input may take, start-up of the interpreter included
LIMIT = 60
NANO = data_file("vnncomp/benchmarks/test/test_nano.onnx")  # one input, one output
BOX = ("(declare-const X_0 Real) (declare-const Y_0 Real) (assert (>= X_0 0)) "
       "(assert (<= X_0 1)) (assert (<= Y_0 1))\n")


def symdnn(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``symdnn ARGS`` in a forked child (:func:`tests.forked.run_cli`); a run past
    :data:`LIMIT` seconds fails the test."""
    try:
        return run_cli(list(args), cwd=cwd, limit=LIMIT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"symdnn {' '.join(a[:40] for a in args)} ran past {LIMIT} s")


def refused(proc: subprocess.CompletedProcess, *words: str) -> None:
    """Exit status 2, no traceback or internal error, and every word in the message."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    for w in words:
        assert w in proc.stderr, (w, proc.stderr[-2000:])


def outcome(fn: Callable[[], object], seconds: float = 5.0) -> tuple[list[str], str]:
    """What ``fn()`` does in a forked child: ``(names of the exception's classes, message)``,
    ``(["ok"], repr)`` when it returns, ``(["timeout"], ...)`` when it runs past ``seconds``
    (the child is then killed: a runaway in C, such as ``10**999999999``, cannot hang the
    test run)."""
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send((["ok"], repr(fn())[:2000]))
        except BaseException as exc:  # noqa: BLE001 (every outcome goes back to the test)
            send.send(([c.__name__ for c in type(exc).__mro__], str(exc)[:2000]))

    proc = ctx.Process(target=child)
    proc.start()
    got = recv.recv() if recv.poll(seconds) else (["timeout"], f"ran past {seconds} s")
    proc.kill()
    proc.join()
    return got


def raises(kind: type, fn: Callable[[], object], pattern: str = "",
           seconds: float = 5.0) -> str:
    """The message of the ``kind`` error that ``fn()`` raises within ``seconds``, whose
    message matches ``pattern``; anything else fails the test."""
    names, msg = outcome(fn, seconds)
    assert kind.__name__ in names, (names[0], msg[:300])
    assert re.search(pattern, msg), (pattern, msg[:300])
    return msg


HUGE = ["1e999999999", "1e-999999999", "-2.5E+999999999", "1" * 5000, "1" * 5000 + "/3",
        "3/" + "7" * 5000]
HUGE_IDS = ["1e999999999", "1e-999999999", "-2.5E+999999999", "5000 digits", "5000 digits/3",
            "3/5000 digits"]


# ------------------------------------------------------------------ item 4: huge numbers
@pytest.mark.parametrize("text", HUGE, ids=HUGE_IDS)
def test_item4_beta_with_a_huge_exponent_or_digits_is_refused_by_parse_betas(text):
    raises(ArgumentError, lambda: parse_betas(text), "--beta")
    raises(ArgumentError, lambda: parse_betas(f"1,{text}"), "--beta")
    assert parse_betas("4/5, 1e3") == ["4/5", "1e3"]


@pytest.mark.parametrize("text", HUGE, ids=HUGE_IDS)
def test_item4_the_exact_number_argument_type_is_bounded(text):
    raises(argparse.ArgumentTypeError, lambda: exact_number(text), "exponent|digits")
    assert exact_number(" 3/10 ") == Fraction(3, 10) and exact_number("1e3") == 1000


@pytest.mark.parametrize("text", HUGE, ids=HUGE_IDS)
def test_item4_exact_parts_of_a_string_is_bounded(text):
    raises(DomainError, lambda: exact_parts(text), "exponent|digits")
    assert exact_parts(" -0.3 ") == (-3, 10) and exact_parts("3/4") == (3, 4)


def test_item4_the_domains_limits_are_the_number_readers():
    # symdnn.domains sits below symdnn.io and keeps its own copy of the reader's limits
    from symdnn.domains import rational
    from symdnn.io import text

    assert rational._MAX_EXPONENT == text.MAX_EXPONENT
    assert rational._MAX_CHARS == text._MAX_DIGITS
    for s in ["1e10000", "-1e-10000", "1e10001", "2.5E-10001", "9" * 4000, "9" * 4001,
              "1" * 3998 + "/3", "0.5", "7/2"]:
        try:
            want = text.exact_number(s)
        except DomainError:
            want = None
        try:
            got = Fraction(*exact_parts(s))
        except DomainError:
            got = None
        assert got == want, s[:30]


def test_item4_radixnet_beta_is_bounded(tmp_path):
    raises(ArgumentError, lambda: generate_radixnet(
        tmp_path / "r", neurons=1024, layers=1, inputs=1, style="exact", beta="1e999999999"),
        "beta")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("beta", ["1e999999999", "1e-999999999"])
def test_item4_cli_build_threshold_generate_refuse_a_huge_beta(tmp_path, beta):
    refused(symdnn("build", "--builtin", "words2", "--beta", beta, "--out", "n",
                   cwd=tmp_path), "--beta")
    refused(symdnn("threshold", "--builtin", "words2", "--beta", beta, cwd=tmp_path),
            "--beta")
    refused(symdnn("generate", "radixnet", "--style", "exact", "--beta", beta, "--out", "r",
                   "--neurons", "1024", "--layers", "2", cwd=tmp_path), "--beta")
    assert sorted(os.listdir(tmp_path)) == []


# ------------------------------------------------------------------ item 5: big constants
def _products(factors: int, literal: str = "1e10000") -> str:
    return ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n"
            f"(assert (>= Y_0 (* {' '.join([literal] * factors)} X_0)))\n")


def test_item5_a_product_of_400_huge_constants_is_refused_at_once():
    text = _products(400)
    assert len(text) > 3000
    raises(ParseError, lambda: parse_vnnlib(text, path="p.vnnlib"), r"p\.vnnlib:3.*bits",
           seconds=2)


def test_item5_nested_products_are_refused_too():
    text = ("(declare-const X_0 Real) (declare-const Y_0 Real)\n(assert (>= Y_0 "
            + "(* 1e10000 " * 60 + "X_0" + ")" * 60 + "))\n")
    raises(ParseError, lambda: parse_vnnlib(text, path="q.vnnlib"), r"q\.vnnlib:2",
           seconds=2)


def test_item5_what_real_properties_write_is_still_read():
    # the largest literal the number reader takes, and products up to MAX_BITS, are read
    big = "9" * 3990 + "e10000"
    p = parse_vnnlib(_products(1, big))
    assert p.assertions[0].expr.coefs[0][1] == int("9" * 3990) * 10**10000
    p = parse_vnnlib(_products(2, "1e9000"))
    assert p.assertions[0].expr.coefs[0][1] == 10**18000
    p = parse_vnnlib(_products(3, "1e-6000"))
    assert p.assertions[0].expr.coefs[0][1] == Fraction(1, 10**18000)
    text = _products(2, "1e10000")  # 66 439 bits: one past MAX_BITS
    raises(ParseError, lambda: parse_vnnlib(text, path="p"), f"p:3: .*{MAX_BITS}")


def test_item5_cli_witness_with_json_refuses_the_9kb_property(tmp_path):
    prop = tmp_path / "p.vnnlib"
    text = ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n"
            "(assert (>= X_0 0))\n(assert (<= X_0 1))\n"
            f"(assert (>= Y_0 (* {' '.join(['1.00000000000000e+10000'] * 400)} X_0)))\n")
    prop.write_text(text)
    assert len(text) > 9000
    (tmp_path / "c.counterexample").write_text("((X_0 0.5))\n")
    start = time.perf_counter()
    proc = symdnn("witness", str(NANO), "p.vnnlib", "c.counterexample", "--json", "w.json",
                  "--no-onnxruntime", cwd=tmp_path)
    refused(proc, "p.vnnlib:5")
    assert time.perf_counter() - start < 30
    assert not (tmp_path / "w.json").exists()


# ------------------------------------------------------------------ item 6: sizes
@pytest.mark.parametrize("sizes", ["1000,1000,1000,1000", "2," * 40 + "2", "1," * 3000 + "1",
                                   "9" * 5000, "99999999999999999999,2"],
                         ids=["1e12", "2**41", "3001 sets", "5000 digits", "1e20 x 2"])
def test_item6_combinatoric_sizes_are_estimated_before_building(sizes):
    raises(ArgumentError, lambda: build_construction(sizes=sizes), "sizes=")


def test_item6_combinatoric_refuses_too_many_categories_before_building():
    sets = [[f"{i}:{j}" for j in range(1000)] for i in range(4)]
    raises(ArgumentError, lambda: combinatoric(sets), "1000000000000 categories")


def test_item6_cli_build_refuses_1e12_categories(tmp_path):
    refused(symdnn("build", "--combinatoric", "1000,1000,1000,1000", "--out", "n",
                   cwd=tmp_path), "--combinatoric", "categories")
    refused(symdnn("build", "--combinatoric", ",".join(["1"] * 3000), "--out", "n",
                   cwd=tmp_path), "--combinatoric", "feature sets")
    assert not (tmp_path / "n").exists()


def test_item6_a_size_that_is_fine_still_builds():
    assert len(build_construction(sizes="3,3,3,3").categories) == 81


# ------------------------------------------------------------------ item 14: counterexamples
def test_item14_more_outputs_than_the_network_has_is_bad_input():
    ce = parse_counterexample("((X_0 0.5) (Y_0 0.25) (Y_1 7))", path="c.counterexample")
    with pytest.raises(ArgumentError, match=r"c\.counterexample.*2 outputs.*has 1"):
        replay(import_onnx(NANO), parse_vnnlib(BOX), ce, onnxruntime=False)


@pytest.mark.parametrize("where", ["counterexample", "property"])
def test_item14_a_5000_digit_index_is_a_parse_error(where):
    big = "1" * 5000
    if where == "counterexample":
        raises(ParseError, lambda: parse_counterexample(f"((X_0 0.5)\n (Y_{big} 3))",
                                                        path="c"), "c:2.*index")
    else:
        raises(ParseError, lambda: parse_vnnlib(f"(declare-const X_0 Real)\n(declare-const "
                                                f"X_{big} Real)", path="p"), "p:2.*index")


def test_item14_a_gap_after_many_variables_is_found_in_linear_time():
    names = [f"X_{i}" for i in range(60000)] + ["X_60001"]
    text = "(" + " ".join(f"({n} 0)" for n in names) + ")"
    raises(ParseError, lambda: parse_counterexample(text), "X_60000 is not", seconds=10)


def test_item14_cli_witness_bad_counterexamples_exit_2(tmp_path):
    (tmp_path / "p.vnnlib").write_text(BOX)
    (tmp_path / "more.counterexample").write_text("((X_0 0.5) (Y_0 0.25) (Y_1 7))\n")
    (tmp_path / "index.counterexample").write_text(f"((X_0 0.5)\n(Y_{'1' * 5000} 3))\n")
    refused(symdnn("witness", str(NANO), "p.vnnlib", "more.counterexample",
                   "--no-onnxruntime", cwd=tmp_path), "more.counterexample", "outputs")
    refused(symdnn("witness", str(NANO), "p.vnnlib", "index.counterexample",
                   "--no-onnxruntime", cwd=tmp_path), "index.counterexample:2")


# ------------------------------------------------------------------ other runaway spellings
def test_thousands_of_variables_and_deep_nesting_stay_fast():
    n = 20000
    decl = "".join(f"(declare-const X_{i} Real)" for i in range(n))
    text = decl + "(declare-const Y_0 Real)(assert (<= Y_0 (+ " + " ".join(
        f"(* 3 X_{i})" for i in range(n)) + ")))"
    names, got = outcome(lambda: len(parse_vnnlib(text).inputs), seconds=10)
    assert (names, got) == (["ok"], str(n))
    deep = "(declare-const X_0 Real)(declare-const Y_0 Real)(assert " + "(" * 100000
    raises(ParseError, lambda: parse_vnnlib(deep), "nested")


@pytest.mark.parametrize("value", ["1e999999999", "1e-999999999", "1" * 5000],
                         ids=["1e999999999", "1e-999999999", "5000 digits"])
def test_a_huge_counterexample_value_is_refused(value):
    raises(ParseError, lambda: parse_counterexample(f"((X_0 {value}))"))


def test_a_beta_whose_network_file_could_not_be_read_back_is_refused_before_writing(tmp_path):
    # found attacking the fix: --beta 1e10000 is a number the reader takes, but written out
    # exactly (10**10000) it is not; the folder was written, and 'verify' then refused it
    c = build_construction(builtin="words2", betas="1e10000")
    with pytest.raises(ArgumentError, match=r"betas=.*layer 0.*digits"):
        write_construction(c, tmp_path / "n")
    assert not (tmp_path / "n").exists()
    d = write_construction(build_construction(builtin="words2", betas="1e3990"), tmp_path / "m")
    assert load_construction(str(d)).net.layers[0].beta == 10**3990
    refused(symdnn("build", "--builtin", "words2", "--beta", "1,1e-10000", "--combinatoric",
                   "2,2", cwd=tmp_path), "")  # two sources: usage
    refused(symdnn("build", "--combinatoric", "2,2,2,2", "--beta", "1,1e-10000", "--out",
                   "k", cwd=tmp_path), "--beta", "layer 1")
    assert not (tmp_path / "k").exists()


def test_a_radixnet_bias_too_long_to_write_is_refused_not_an_internal_error(tmp_path):
    # found attacking the fix: --beta 1e5000 gave exit 4 (str() of a 5001-digit integer)
    raises(ArgumentError, lambda: generate_radixnet(
        tmp_path / "r", neurons=1024, layers=1, inputs=1, style="exact",
        beta=Fraction(10**5000)), "beta=.*bias.tsv")
    refused(symdnn("generate", "radixnet", "--style", "exact", "--beta", "1e5000", "--out",
                   "r", "--neurons", "1024", "--layers", "2", cwd=tmp_path), "--beta")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("where", ["property", "counterexample"])
def test_many_huge_numbers_are_refused_by_their_total_size(where):
    # found attacking the fix: each 1e10000 is fine alone, but a 256-MB file of them would
    # ask for some hundred gigabytes; 5000 of them (40 KB) pass MAX_TOTAL_BITS
    many = " ".join(["1e10000"] * 5000)
    if where == "property":
        text = f"(declare-const X_0 Real)(declare-const Y_0 Real)\n(assert (<= Y_0 (+ {many})))"
        raises(ParseError, lambda: parse_vnnlib(text, path="p"), "p:2: .*bits together")
    else:
        text = "(" + " ".join(f"(X_{i} 1e10000)" for i in range(5000)) + ")"
        raises(ParseError, lambda: parse_counterexample(text, path="c"), "c:1: .*bits")
    # the constants products make count too: 600 products of 15 factors 1e1000 write 30 M
    # bits of literals, but their partial products hold 240 M
    product = "(* " + " ".join(["1e1000"] * 15) + ")"
    text = ("(declare-const X_0 Real)(declare-const Y_0 Real)\n(assert (<= Y_0 (+ "
            + " ".join([product] * 600) + ")))")
    raises(ParseError, lambda: parse_vnnlib(text, path="p"), "p:2: .*bits together")
    assert parse_vnnlib(text.replace(product, "(* 1e2000 X_0)"))  # the literals alone pass
