"""Runs audited from an implementation's own output files (issue 13): symdnn's own runs dumped
and audited back give the same findings in every form (tsv, tsv.gz, mtx, npz); a subset of
layers; values read exactly and rounded once into the run's format (a hair from a tie); and
every malformed folder or file refused with the file and line named, exit status 2."""

from __future__ import annotations

import gzip
import io
import json
import os
import zipfile
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp

from symdnn.audit import Run, audit_network
from symdnn.audit.files import dump_runs
from symdnn.cli import main
from symdnn.errors import ParseError
from symdnn.io.runfiles import RunFolder, read_run_file, write_run_layer
from tests.oracle import round_value
from tests.test_audit import dyadic_net

SAME = ("zero_to_pos", "zero_to_neg", "sign_flip", "missing", "spurious", "spurious_pos",
        "cap_flip", "post_zero_to_nonzero", "post_nonzero_to_zero", "max_ulp", "max_abs_err",
        "min_margin_correct", "totals", "ulp_histogram", "categories", "argmax_changes",
        "first_departure", "examples")


def as_mtx(folder, kind, l, keys, vals, shape, gz=False):
    R, n = shape
    lines = [f"%%MatrixMarket matrix coordinate real general\n{R} {n} {len(keys)}\n"]
    lines += [f"{k // n + 1} {k % n + 1} {float(v)!r}\n" for k, v in zip(keys, vals,
                                                                        strict=True)]
    data = "".join(lines).encode()
    p = folder / (f"{kind}-{l}.mtx" + (".gz" if gz else ""))
    p.write_bytes(gzip.compress(data) if gz else data)


@pytest.mark.parametrize("form", ["npz", "tsv", "tsv.gz", "mtx", "mtx.gz"])
def test_a_dumped_run_audited_back_gives_the_same_findings(tmp_path, form):
    net, Y0 = dyadic_net(seed=11)
    # 3/10 biases: fp32 and fp16 runs depart from exact (flips, zeros, ulps)
    from tests.netgen import random_net

    net = random_net(3, L=5, n=10, density=0.4, pos=0.7, wq=10, wp=9, bias="-3/10",
                     cap=32, rule="nonzero", convention="row")
    rows = [f"x{b}" for b in range(6) for _ in net.inputs]
    from symdnn import AssocArray

    rng = np.random.default_rng(4)
    keep = rng.random(len(rows)) < 0.7
    cols = [f for _ in range(6) for f in net.inputs]
    Y0 = AssocArray.from_triples([r for r, k in zip(rows, keep, strict=True) if k],
                                 [c for c, k in zip(cols, keep, strict=True) if k],
                                 [Fraction(1)] * int(keep.sum()), domain="QQ")
    dump = tmp_path / "dump"
    with dump_runs(dump, form="npz" if form == "npz" else "tsv") as on_layer:
        first = audit_network(net, Y0, formats=["fp32", "fp16"], on_layer=on_layer)
    meta = json.loads((dump / "runs.json").read_text())
    assert set(meta["runs"]) == {"fp32", "fp16+acc_fp32"}
    runs = []
    for name, info in meta["runs"].items():
        folder = dump / info["folder"]
        if form in ("tsv.gz", "mtx", "mtx.gz"):  # rewrite the dump in the asked form
            other = tmp_path / f"{form}-{name}"
            other.mkdir()
            for p in sorted(folder.iterdir()):
                kind, l = p.name.split(".")[0].split("-")
                shape = (len(first.batch), len(net.layers[int(l) - 1].outputs))
                keys, vals = read_run_file(p, shape, info["format"], keep_zeros=kind == "pre")
                if form == "tsv.gz":
                    (other / (p.name + ".gz")).write_bytes(gzip.compress(p.read_bytes()))
                else:
                    as_mtx(other, kind, l, keys, vals, shape, gz=form == "mtx.gz")
            folder = other
        runs.append(Run.files(folder, info["format"], name))
    again = audit_network(net, Y0, runs=runs)
    a, b = first.to_json()["runs"], again.to_json()["runs"]
    assert sum(a["fp16+acc_fp32"]["totals"][k] for k in ("sign_flip", "zero_to_pos",
                                                          "zero_to_neg", "max_ulp")) > 0
    for name in a:
        assert b[name]["source"] == "files"
        for key in SAME:
            assert a[name][key] == b[name][key], (name, key)


def test_a_subset_of_layers_and_only_the_last(tmp_path):
    net, Y0 = dyadic_net()
    dump = tmp_path / "d"
    with dump_runs(dump) as on_layer:
        full = audit_network(net, Y0, formats=["fp64"], on_layer=on_layer)
    run = dump / "fp64"
    for l in range(1, net.depth):  # keep the pre-activations of the last layer only
        os.remove(run / f"layer-{l}.npz")
        os.remove(run / f"pre-{l}.npz")
    rep = audit_network(net, Y0, runs=[Run.files(run, "fp64", "last")])
    js, ref = rep.to_json()["runs"]["last"], full.to_json()["runs"]["fp64"]
    assert js["layers_provided"] == [net.depth]
    assert js["zero_to_neg"][:-1] == [None] * (net.depth - 1)
    assert js["zero_to_neg"][-1] == ref["zero_to_neg"][-1]
    assert js["categories"] == ref["categories"] and js["categories_match_exact"]


def test_decimals_are_rounded_once_from_their_exact_value(tmp_path):
    # 1 + 2**-24 is the fp32 midpoint between 1 and 1 + 2**-23. A decimal a hair above it
    # rounds up in fp32; through float64 it lands on the midpoint and ties to even (1.0).
    hair = Fraction(1) + Fraction(1, 2**24) + Fraction(1, 10**30)
    text = f"{hair.numerator * 10**30 // hair.denominator}e-30"
    assert float(np.float32(float(text))) == 1.0  # the double rounding this must avoid
    assert Fraction(text) == hair
    below = "0.99999999999999999999999999999999999"  # rounds to 1 in any format
    d = tmp_path / "r"
    d.mkdir()
    (d / "layer-1.tsv").write_text(f"1\t1\t{text}\n1\t2\t{below}\n2\t2\t0x1.000002p+0\n")
    keys, vals = read_run_file(d / "layer-1.tsv", (2, 2), "fp32")
    assert keys.tolist() == [0, 1, 3]
    assert vals.tolist() == [float(round_value(hair, "fp32")), 1.0, 1 + 2**-23]
    assert vals[0] == 1 + 2**-23


def test_a_hex_float_that_is_not_a_value_of_the_format_is_refused(tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    (d / "layer-1.tsv").write_text("1\t1\t0x1p-1\n2\t2\t0x1.000002p+0\n")
    assert read_run_file(d / "layer-1.tsv", (2, 2), "fp32")[1].tolist() == [0.5,
                                                                             1 + 2**-23]
    with pytest.raises(ParseError, match=r"layer-1.tsv:2: value 0x1.000002p\+0 is not a bf16 "
                                         r"value"):
        read_run_file(d / "layer-1.tsv", (2, 2), "bf16")


def _zip_npz(path, arrays, fmt=b"csr"):
    """An .npz written by hand, so that every part can be wrong."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, a in arrays.items():
            b = io.BytesIO()
            np.lib.format.write_array(b, np.asarray(a), allow_pickle=True)
            z.writestr(k + ".npy", b.getvalue())
    path.write_bytes(buf.getvalue())


GOOD_NPZ = {"indptr": np.array([0, 1, 2]), "indices": np.array([0, 1], dtype=np.int32),
            "data": np.array([0.5, 2.0]), "format": np.array(b"csr"),
            "shape": np.array([2, 2])}

TSV_CASES = [
    ("1\t3\t0.5\n", r"layer-2.tsv:1: unknown neuron: the layer has 2 neurons"),
    ("1\t1\t0.5\n3\t1\t0.5\n", r"layer-2.tsv:2: row beyond the 2 inputs"),
    ("1\t1\tinf\n", r"layer-2.tsv:1: value 'inf' is not finite"),
    ("1\t1\tnan\n", r"layer-2.tsv:1: value 'nan' is not finite"),
    ("1\t1\t1e400\n", r"layer-2.tsv:1: value 1e400 is beyond the largest fp64 value"),
    ("1\t1\t0.5\n2\t2\t1\n1\t1\t0.25\n", r"layer-2.tsv:3: repeated entry \(row 1, neuron 1\), "
                                         r"first on line 1"),
    ("1\t1\n", r"layer-2.tsv:1: expected 3 fields, found 2"),
    ("0\t1\t0.5\n", r"layer-2.tsv:1: row \(field 1\) must be a 1-based index"),
    ("1\t1\t0x\n", r"layer-2.tsv:1: value '0x' is not a decimal or C99 hex float"),
    ("1\t1\t1/2\n", r"layer-2.tsv:1: value '1/2' is not a decimal or C99 hex float"),
]


@pytest.mark.parametrize("text, message", TSV_CASES)
def test_a_bad_tsv_layer_names_file_and_line(tmp_path, text, message):
    d = tmp_path / "r"
    d.mkdir()
    (d / "layer-2.tsv").write_text(text)
    f = RunFolder(d)
    f.check(2)
    with pytest.raises(ParseError, match=message):
        f.layer(2, (2, 2))


NPZ_CASES = [
    ({"shape": np.array([3, 2])}, "a 3 x 2 matrix; this layer is 2 inputs x 2 neurons"),
    ({"indices": np.array([0, 2], dtype=np.int32)}, r"entry 2 \(row 2\): column index 2 is not "
                                                    r"a neuron: the layer has 2"),
    ({"indices": np.array([0, -1], dtype=np.int32)}, r"entry 2 \(row 2\): column index -1"),
    ({"indices": np.array([0, 2**64 - 1], dtype=np.uint64)}, r"column index 18446744073709551615"),
    ({"data": np.array([0.5, np.inf])}, r"entry 2 \(row 2, neuron 2\): inf is not finite"),
    ({"indptr": np.array([0, 2, 1])}, "inconsistent CSR arrays"),
    ({"format": np.array(b"csc")}, "format 'csc': a run file must be a CSR matrix"),
    ({"data": np.array([object(), 1], dtype=object)}, "holds Python objects"),
    ({"data": np.array([0.5, 0.1])}, r"entry 2 \(row 2, neuron 2\): 0.1 is not a fp32 value"),
]


@pytest.mark.parametrize("change, message", NPZ_CASES)
def test_a_bad_npz_layer_is_refused_before_any_c_parser_sees_it(tmp_path, change, message):
    d = tmp_path / "r"
    d.mkdir()
    _zip_npz(d / "layer-1.npz", {**GOOD_NPZ, **change})
    with pytest.raises(ParseError, match=message):
        read_run_file(d / "layer-1.npz", (2, 2), "fp32")


def test_npz_archives_that_lie_or_break(tmp_path):
    good = tmp_path / "good.npz"
    _zip_npz(good, GOOD_NPZ)
    assert read_run_file(good, (2, 2), "fp64")[1].tolist() == [0.5, 2.0]
    raw = good.read_bytes()
    for name, data, message in [
            ("trunc.npz", raw[: len(raw) // 2], "not a readable .npz archive"),
            ("empty.npz", b"", "not a readable .npz archive"),
            ("text.npz", b"1\t1\t0.5\n", "not a readable .npz archive")]:
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ParseError, match=message):
            read_run_file(tmp_path / name, (2, 2), "fp64")
    # a header promising a billion entries over a few bytes: refused before allocating
    b = io.BytesIO()
    np.lib.format.write_array_header_1_0(b, {"descr": "<f8", "fortran_order": False,
                                            "shape": (10**9,)})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, a in GOOD_NPZ.items():
            if k == "data":
                z.writestr("data.npy", b.getvalue() + b"\0" * 16)
            else:
                ab = io.BytesIO()
                np.lib.format.write_array(ab, a)
                z.writestr(k + ".npy", ab.getvalue())
    (tmp_path / "liar.npz").write_bytes(buf.getvalue())
    with pytest.raises(ParseError, match="header promises 1000000000 values"):
        read_run_file(tmp_path / "liar.npz", (2, 2), "fp64")
    with zipfile.ZipFile(tmp_path / "twice.npz", "w") as z:
        for k, a in GOOD_NPZ.items():
            ab = io.BytesIO()
            np.lib.format.write_array(ab, a)
            z.writestr(k + ".npy", ab.getvalue())
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
            z.writestr("data.npy", ab.getvalue())
    with pytest.raises(ParseError, match="holds 'data.npy' more than once"):
        read_run_file(tmp_path / "twice.npz", (2, 2), "fp64")
    with zipfile.ZipFile(tmp_path / "missing.npz", "w") as z:
        z.writestr("data.npy", b"")
    with pytest.raises(ParseError, match="missing format, indices, indptr, shape"):
        read_run_file(tmp_path / "missing.npz", (2, 2), "fp64")


@pytest.mark.parametrize("names, message", [
    (["layer-01.tsv"], r"layer-01.tsv: not a run file name"),
    (["layer-1.txt"], r"layer-1.txt: not a run file name"),
    (["layer-1.tsv", "layer-1.npz"], "two files for layer 1: layer-1.npz and layer-1.tsv"),
])
def test_bad_folder_layouts(tmp_path, names, message):
    d = tmp_path / "r"
    d.mkdir()
    for n in names:
        (d / n).write_text("")
    with pytest.raises(ParseError, match=message):
        RunFolder(d)


def test_missing_last_layer_beyond_the_network_and_pre_without_post(tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    (d / "layer-1.tsv").write_text("")
    (d / "layer-3.tsv").write_text("")
    with pytest.raises(ParseError, match=r"the last layer's activations are missing: add "
                                         r"layer-6.tsv .* \(found layers 1, 3\)"):
        RunFolder(d).check(6)
    (d / "layer-7.tsv").write_text("")
    with pytest.raises(ParseError, match="layer-7.tsv: layer 7 is beyond the network's 6"):
        RunFolder(d).check(6)
    os.remove(d / "layer-7.tsv")
    (d / "layer-6.tsv").write_text("")
    (d / "pre-2.tsv").write_text("")
    with pytest.raises(ParseError, match="pre-activations of layer 2 without its activations"):
        RunFolder(d).check(6)
    with pytest.raises(ParseError, match="not a folder"):
        RunFolder(tmp_path / "nowhere")
    e = tmp_path / "e"
    e.mkdir()
    os.mkfifo(e / "layer-1.tsv")  # reading it would block forever
    (e / "layer-2.npz").mkdir()
    with pytest.raises(ParseError, match="layer-1.tsv: not a regular file"):
        RunFolder(e)


def test_the_command_line_round_trip_and_exit_statuses(tmp_path, capsys):
    assert main(["build", "--builtin", "words2", "--beta", "3/10", "--out",
                 str(tmp_path / "n")]) == 0
    assert main(["audit", str(tmp_path / "n"), "--formats", "fp16,bf16", "--quiet",
                 "--dump", str(tmp_path / "d"), "--dump-format", "tsv",
                 "--json", str(tmp_path / "a.json")]) == 0
    capsys.readouterr()
    assert main(["audit", str(tmp_path / "n"), "--quiet", "--json", "-",
                 "--run", f"mine={tmp_path / 'd' / 'fp16+acc_fp32'}:fp16"]) == 0
    js = json.loads(capsys.readouterr().out)
    ref = json.loads((tmp_path / "a.json").read_text())["runs"]["fp16+acc_fp32"]
    assert list(js["runs"]) == ["mine"]  # no own runs unless --formats asks
    for key in SAME:
        assert js["runs"]["mine"][key] == ref[key], key
    # a bad value: exit 2, the file and line named, nothing written
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "layer-1.tsv").write_text("1\t1\t0.5\n1\t999\t0.5\n")
    code = main(["audit", str(tmp_path / "n"), "--quiet", "--run", f"b={bad}",
                 "--json", str(tmp_path / "b.json")])
    err = capsys.readouterr().err
    assert code == 2 and "layer-1.tsv:2: unknown neuron" in err
    assert not (tmp_path / "b.json").exists()
    for spec, message in [("nameonly", "write NAME=PATH"), (f"fp16+acc_fp32={bad}:fp16x",
                                                            "unknown format 'fp16x'")]:
        assert main(["audit", str(tmp_path / "n"), "--quiet", "--run", spec]) == 2
        assert message in capsys.readouterr().err
    assert main(["audit", str(tmp_path / "n"), "--quiet", "--formats", "fp16",
                 "--run", f"fp16+acc_fp32={bad}"]) == 2
    assert "already taken" in capsys.readouterr().err
    # --dump into a folder that is not symdnn's: refused before any work, folder untouched
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    assert main(["audit", str(tmp_path / "n"), "--quiet", "--dump", str(tmp_path / "mine")]) \
        == 2
    assert os.listdir(tmp_path / "mine") == ["notes.txt"]


def test_write_run_layer_tsv_is_exact(tmp_path):
    vals = np.array([0.1, 2.0**-1074, 1.7976931348623157e308, -3.0])
    keys = np.array([0, 1, 2, 3])
    p = write_run_layer(tmp_path, "pre", 1, keys, vals, (2, 2), "tsv")
    back = read_run_file(p, (2, 2), "fp64", keep_zeros=True)
    assert back[1].tolist() == vals.tolist()
    p = write_run_layer(tmp_path, "layer", 1, keys, vals, (2, 2), "npz")
    assert sp.load_npz(p).toarray().ravel().tolist() == vals.tolist()


@pytest.mark.parametrize("fmt", ["fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2"])
def test_decimals_at_and_a_hair_from_midpoints_round_as_the_oracle_says(tmp_path, fmt):
    from tests.oracle import _fmt, bits_to_fraction, neighbours

    rng = np.random.default_rng(7)
    top = _fmt(fmt).max_finite_bits
    texts, exact = [], []
    for bits in list(rng.integers(0, top, size=80)) + [0, 1, top - 1]:
        lo, hi, _ = neighbours(int(bits), fmt)
        assert lo == bits_to_fraction(int(bits), fmt)
        mid = (lo + hi) / 2  # a tie: to even; a hair either side: to the nearer
        for hair in (0, Fraction(1, 10**45), -Fraction(1, 10**45)):
            v = mid + hair
            texts.append(f"{v.numerator * 10**80 // v.denominator}e-80" if hair
                         else _exact_decimal(v))
            exact.append(Fraction(texts[-1]))
    d = tmp_path / "r"
    d.mkdir()
    n = len(texts)
    (d / "pre-1.tsv").write_text("".join(f"1\t{k + 1}\t{t}\n" for k, t in enumerate(texts)))
    _, vals = read_run_file(d / "pre-1.tsv", (1, n), fmt, keep_zeros=True)
    from tests.oracle import round_value

    want = [float(round_value(e, fmt)) for e in exact]
    assert vals.tolist() == want


def _exact_decimal(v: Fraction) -> str:
    """A dyadic rational as an exact decimal string."""
    k = 0
    while (v * 10**k).denominator != 1:
        k += 1
    n = (v * 10**k).numerator
    return f"{n}e-{k}"


def test_a_decimal_exponent_beyond_the_cap_is_refused_quickly(tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    (d / "layer-1.tsv").write_text("1\t1\t1e-99999\n")
    with pytest.raises(ParseError, match=r"layer-1.tsv:1: value 1e-99999: the exponent is "
                                         r"beyond \+-10000"):
        read_run_file(d / "layer-1.tsv", (1, 1), "fp32")
    # 2**-150 = 7.006...e-46 is half fp32's smallest subnormal
    (d / "layer-1.tsv").write_text("1\t1\t1e-9999\n1\t2\t-2.5e-46\n1\t3\t7.01e-46\n")
    assert read_run_file(d / "layer-1.tsv", (1, 3), "fp32", keep_zeros=True)[1].tolist() == \
        [0.0, -0.0, float(np.float32(2.0**-149))]


def test_a_gzip_bomb_is_refused_before_it_fills_memory(tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    (d / "layer-1.tsv.gz").write_bytes(gzip.compress(b"\n" * (3 * 2**20)))
    with pytest.raises(ParseError, match="unpacks to more than the 1049600 bytes"):
        read_run_file(d / "layer-1.tsv.gz", (2, 2), "fp64")


def test_longdouble_values_that_are_not_fp64_values_are_refused(tmp_path):
    if np.finfo(np.longdouble).nmant <= 52:
        pytest.skip("longdouble is float64 on this platform")
    d = tmp_path / "r"
    d.mkdir()
    data = np.array([np.longdouble(1) + np.longdouble(2) ** -60, np.longdouble(2)])
    _zip_npz(d / "layer-1.npz", {**GOOD_NPZ, "data": data})
    with pytest.raises(ParseError, match=r"entry 1 \(row 1, neuron 1\): float\d+ value 1.0+9e\+00 "
                                         r"is not a fp64 value"):
        read_run_file(d / "layer-1.npz", (2, 2), "fp64")


@pytest.mark.parametrize("argv, message", [
    (["--run", "a/b=x"], "a run name is letters, digits"),
    (["--run", "x|y=x"], "a run name is letters, digits"),
    (["--run", "a\nb=x"], "a run name is letters, digits"),
    (["--formats", "fp16", "--dump-format", "tsv"], "--dump-format is for --dump DIR"),
])
def test_run_names_and_dump_options_are_checked(tmp_path, capsys, argv, message):
    assert main(["build", "--builtin", "words2", "--out", str(tmp_path / "n")]) == 0
    capsys.readouterr()
    assert main(["audit", str(tmp_path / "n"), "--quiet", *argv]) == 2
    assert message in capsys.readouterr().err
