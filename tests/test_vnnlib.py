"""VNN-LIB properties and VNN-COMP counterexamples, read exactly (issue 15, its readers).

The VNN-COMP data (tests/data, and the full benchmarks where $SYMDNN_DATA has them) is read
and checked against values taken from the files by a regular expression written here (not
the parser), every number as the exact rational it writes; malformed files must give a
ParseError naming the file and the line, never another exception, however deep or large
they are.
"""

from __future__ import annotations

import gzip
import re
from fractions import Fraction as F
from pathlib import Path

import pytest

from symdnn.errors import ParseError
from symdnn.io.vnnlib import (
    Atom,
    Or,
    parse_counterexample,
    parse_vnnlib,
    read_counterexample,
    read_vnnlib,
)
from tests.datafiles import FIXTURES, data_file, full_file, read_text

BOUND = re.compile(r"\(assert \((<=|>=) (X_\d+) ([-+0-9.eE]+)\)\)")
ACAS = "vnncomp/benchmarks/acasxu/vnnlib"
# the three mn_bab counterexamples of ACAS Xu prop_2 that tests/data ships
CES = [f"vnncomp/results/mn_bab/acasxu/ACASXU_run2a_{n}_batch_2000_prop_2.counterexample.gz"
       for n in ("1_2", "2_1", "2_2")]


def _bounds_by_regex(text: str) -> dict:
    lo, hi = {}, {}
    for op, name, num in BOUND.findall(text):
        (hi if op == "<=" else lo)[name] = F(num)
    return lo, hi


def _listed_properties(category: Path) -> set[str]:
    """The properties a benchmark's instances csv names (its second column), as file names
    without ``.gz``: what the folder must hold, read without the parser."""
    (csv,) = sorted(category.glob("*instances.csv"))
    names = {line.split(",")[1].strip() for line in csv.read_text().splitlines() if line}
    return {Path(n).name for n in names}


def _properties(category: Path) -> list[Path]:
    return sorted(p for p in category.rglob("*") if p.name.endswith((".vnnlib", ".vnnlib.gz")))


def test_every_property_of_the_fixtures_parses():
    files = [p for c in ("acasxu", "mnist_fc", "test")
             for p in _properties(FIXTURES / "vnncomp" / "benchmarks" / c)]
    assert len(files) == 8  # acasxu prop_2 and prop_6, two of mnist_fc, the test category's 4
    for f in files:
        p = read_vnnlib(f)
        assert p.inputs and p.outputs and p.assertions, f


@pytest.mark.parametrize("category, count", [("acasxu", 10), ("mnist_fc", None), ("test", 4)])
def test_every_property_of_the_full_benchmarks_parses(category, count):
    """Every property the benchmark's instances name is there and parses: ACAS Xu has 10, the
    test category 4, mnist_fc as many as the fetched instances list."""
    folder = full_file(f"vnncomp/benchmarks/{category}")
    files = _properties(folder)
    assert {f.name.removesuffix(".gz") for f in files} == _listed_properties(folder)
    assert count is None or len(files) == count
    for f in files:
        p = read_vnnlib(f)
        assert p.inputs and p.outputs and p.assertions, f


def test_acas_xu_property_2_exactly():
    f = data_file(f"{ACAS}/prop_2.vnnlib")
    p = read_vnnlib(f)
    assert p.inputs == [f"X_{i}" for i in range(5)] and len(p.outputs) == 5
    lo, hi = _bounds_by_regex(read_text(f))
    assert p.input_box() == [(lo[x], hi[x]) for x in p.inputs]
    assert p.input_box()[0] == (F(3, 5), F("0.679857769"))
    # unsafe if COC (Y_0) is maximal: Y_i <= Y_0 for i = 1..4
    outs = p.output_assertions
    assert len(outs) == 4 and all(isinstance(a, Atom) for a in outs)
    env = {x: (lo[x] + hi[x]) / 2 for x in p.inputs}
    env.update({"Y_0": F(1), "Y_1": F(1), "Y_2": F(0), "Y_3": F(-1), "Y_4": F(1, 3)})
    assert p.holds(env)  # a tie (Y_1 = Y_0) still satisfies <=
    env["Y_1"] = F(1) + F(1, 10 ** 30)
    assert not p.holds_outputs(env) and p.holds_inputs(env)
    env["Y_1"] = F(0)
    env["X_0"] = F(3, 5)  # exactly on the bound: inside
    assert p.holds(env)
    env["X_0"] = F(3, 5) - F(1, 10 ** 40)
    assert not p.holds_inputs(env)


def test_acas_xu_property_6_is_a_disjunction_of_two_boxes():
    p = read_vnnlib(data_file(f"{ACAS}/prop_6.vnnlib"))
    assert p.input_box() is None
    (ins,) = p.input_assertions
    assert isinstance(ins, Or) and len(ins.parts) == 2
    env = {"X_0": F(0), "X_1": F("0.3"), "X_2": F("-0.4995"), "X_3": F(0), "X_4": F(0)}
    assert p.holds_inputs(env)           # in the first box
    env["X_1"] = F("-0.3")
    assert p.holds_inputs(env)           # in the second
    env["X_1"] = F(0)
    assert not p.holds_inputs(env)       # between them


def test_mnist_property_has_784_bounds_and_one_disjunction():
    f = data_file("vnncomp/benchmarks/mnist_fc/vnnlib/prop_0_0.03.vnnlib")
    p = read_vnnlib(f)
    assert len(p.inputs) == 784 and len(p.outputs) == 10
    lo, hi = _bounds_by_regex(read_text(f))
    assert p.input_box() == [(lo[x], hi[x]) for x in p.inputs]
    (out,) = p.output_assertions
    assert isinstance(out, Or) and len(out.parts) == 9
    env = {x: lo[x] for x in p.inputs} | {f"Y_{i}": F(0) for i in range(10)}
    env["Y_4"] = F(1)
    assert not p.holds(env)  # Y_4 is the strict maximum: not a counterexample
    env["Y_7"] = F(1)
    assert p.holds(env)      # Y_7 >= Y_4


def test_the_shipped_counterexamples_exactly():
    files = sorted((FIXTURES / "vnncomp" / "results").glob("*/*/*.counterexample.gz"))
    assert [f"vnncomp/results/{f.relative_to(FIXTURES / 'vnncomp' / 'results')}"
            for f in files] == CES
    files = [data_file(c) for c in CES]  # the same files in the full results, if fetched
    p = read_vnnlib(data_file(f"{ACAS}/prop_2.vnnlib"))
    for f in files:
        text = gzip.open(f, "rt").read()
        want = {n: F(v) for n, v in re.findall(r"\((\w+) ([-+0-9.eE]+)\)", text)}
        c = read_counterexample(f)
        assert c.values == want and len(c.inputs) == 5 and len(c.outputs) == 5
        env = dict(c.values)
        box = p.input_box()
        inside = all(lo <= env[x] <= hi for x, (lo, hi) in zip(p.inputs, box, strict=True))
        assert p.holds_inputs(env) == inside


def test_numbers_are_exact():
    head = ("(declare-const X_0 Real)(declare-const Y_0 Real)"
            "(assert (<= X_0 0.1))(assert (>= X_0 -3.5E+2))")
    p = parse_vnnlib(head + "(assert (<= (+ (* 2 Y_0) 1e-5) (* 0.5 3)))")
    assert p.input_box() == [(F(-350), F(1, 10))]
    (out,) = p.output_assertions
    assert out.expr.coefs == (("Y_0", F(2)),) and out.expr.const == F(1, 10 ** 5) - F(3, 2)
    p = parse_vnnlib(head + "(assert (<= (+ (* 2 Y_0) (- X_0) 1e-5) (* 0.5 3)))")
    (mixed,) = p.mixed_assertions
    assert mixed.expr.coefs == (("X_0", F(-1)), ("Y_0", F(2)))
    assert p.input_box() is None  # an assertion over inputs and outputs: no box


def test_counterexample_forms():
    c = parse_counterexample("sat\n((X_0 0.1)\n (X_1 -2e-3)\n (Y_0 7))")
    assert c.inputs == [F(1, 10), F(-2, 1000)] and c.outputs == [F(7)]
    assert parse_counterexample("((X_0 1))").outputs == []


BAD_PROPERTIES = [
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 1)", "never closed", 3),
    ("(declare-const X_0 Real))", "without a matching", 1),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_1 1))", "before it", 3),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= (* X_0 Y_0) 1))",
     "not linear", 3),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (< X_0 1))",
     "not supported", 3),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 1 2))",
     "two terms", 3),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 0.5.5))",
     "not a decimal", 3),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 nan))",
     "not finite", 3),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 1e999999))",
     "exponent", 3),
    ("(declare-const X_0 Real)\n(declare-const X_0 Real)", "declared twice", 2),
    ("(declare-const X_0 Int)", "only Real", 1),
    ("(declare-const Z_0 Real)", "not an input", 1),
    ("(declare-const X_0 Real)\n(declare-const X_2 Real)\n(declare-const Y_0 Real)\n"
     "(assert (<= X_0 1))", "X_1 is not declared", None),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)", "no assertion", None),
    ("(declare-const Y_0 Real)\n(assert (<= Y_0 1))", "no input", None),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (and))", "nothing in it", 3),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(frobnicate)", "unknown command",
     3),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (xor X_0 Y_0))",
     "unknown formula", 3),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= (/ X_0 2) 1))",
     "unknown or malformed term", 3),
    ("hello", "expected a command", 1),
]


@pytest.mark.parametrize("text,msg,line", BAD_PROPERTIES,
                         ids=[b[1].replace(" ", "-") for b in BAD_PROPERTIES])
def test_malformed_properties_name_file_and_line(tmp_path, text, msg, line):
    f = tmp_path / "bad.vnnlib"
    f.write_text(text)
    with pytest.raises(ParseError, match=re.escape(msg)) as exc:
        read_vnnlib(f)
    assert str(f) in str(exc.value)
    assert exc.value.line == line


BAD_COUNTEREXAMPLES = [
    ("", "empty"),
    ("sat\n", "empty"),
    ("((X_0 1) (X_0 2))", "given twice"),
    ("((X_0 1) (W_0 2))", "not an input"),
    ("((X_0 1) (X_2 2))", "X_1 is not declared"),
    ("((X_0 1)) ((X_1 2))", "one assignment"),
    ("((X_0 1 2))", "expected (NAME value)"),
    ("((X_0 abc))", "not a decimal"),
    ("((Y_0 1))", "no input"),
]


@pytest.mark.parametrize("text,msg", BAD_COUNTEREXAMPLES)
def test_malformed_counterexamples(tmp_path, text, msg):
    f = tmp_path / "ce.counterexample"
    f.write_text(text)
    with pytest.raises(ParseError, match=re.escape(msg)) as exc:
        read_counterexample(f)
    assert str(f) in str(exc.value)


def test_deep_nesting_and_huge_files_are_parse_errors(tmp_path, monkeypatch):
    for text in ("(" * 200_000, "(assert " * 100 + ")" * 100):
        with pytest.raises(ParseError, match="nested deeper"):
            parse_vnnlib(text, path="deep.vnnlib")
    with pytest.raises(ParseError, match="nested deeper"):
        parse_counterexample("(" * 100_000)
    import symdnn.io.vnnlib as V

    monkeypatch.setattr(V, "MAX_BYTES", 1 << 20)
    big = tmp_path / "big.vnnlib.gz"
    with gzip.open(big, "wb") as fh:  # a gzip bomb: unpacks past the limit
        for _ in range(3):
            fh.write(b";" + b" " * (1 << 20) + b"\n")
    with pytest.raises(ParseError, match="unpacks to more"):
        read_vnnlib(big)


def test_gzip_and_bad_bytes(tmp_path):
    good = tmp_path / "p.vnnlib.gz"
    with gzip.open(good, "wt") as fh:
        fh.write("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= Y_0 X_0))")
    assert read_vnnlib(good).outputs == ["Y_0"]
    corrupt = tmp_path / "c.vnnlib.gz"
    corrupt.write_bytes(good.read_bytes()[:-6])
    with pytest.raises(ParseError, match="gzip"):
        read_vnnlib(corrupt)
    latin = tmp_path / "l.vnnlib"
    latin.write_bytes(b"; caf\xe9\n(declare-const X_0 Real)")
    with pytest.raises(ParseError, match="UTF-8") as exc:
        read_vnnlib(latin)
    assert exc.value.line == 1
    with pytest.raises(ParseError, match="cannot read"):
        read_vnnlib(tmp_path / "missing.vnnlib")
