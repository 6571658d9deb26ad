"""The certificate's picture (issue 27): ``write_certificate_report`` and ``plot_certificate``.

The report folder holds ``report.md``, ``details.json`` and the PNG; the Markdown names
exactly the layers and decisions at risk that the certificate says (read back from the
Markdown and compared with the certificate's own counts and with its JSON, written by other
code); exact margins are exact; a folder symdnn did not write is refused untouched, and an
interrupted write leaves nothing.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import struct
from decimal import Decimal
from fractions import Fraction

import pytest

from symdnn.certify import certify
from symdnn.certify.picture import (
    FIGURE,
    bound_text,
    certificate_layers,
    decisions_at_risk,
    exact_text,
    write_certificate_report,
)
from symdnn.constructions import build_construction
from symdnn.errors import OutputError
from symdnn.io.outputs import MARKER, command_outputs
from symdnn.plotting import plot_certificate
from tests.test_certify import SPECS, spec
from tests.test_oracle_engines import build

FORMATS = ["fp64", "bf16", "fp8_e4m3"]


def _cert(name: str, seed: int, L: int = 4):
    s = spec(seed, L=L, **SPECS[name])
    net, Y0 = build(s)
    return certify(net, Y0, formats=FORMATS, batch=s.batch, accumulate="same")


@pytest.fixture(scope="module")
def gc_cert():
    """fp64 certified; bf16 and fp8_e4m3 not, with layers, categories and argmax at risk."""
    cert = _cert("gc", 3)
    assert cert["fp64"].certified and not cert["bf16"].certified
    assert cert["fp8_e4m3"].categories_at_risk and cert["fp8_e4m3"].argmax_at_risk
    return cert


@pytest.fixture(scope="module")
def gc_fp32_acc():
    """fp8_e4m3 accumulating in fp32: a layer where nothing is carried out (every output
    certified inactive or exact) but ten bias-rule decisions are at risk, and a layer with
    exactly one decision at risk."""
    s = spec(4, L=5, **SPECS["gc"])
    net, Y0 = build(s)
    cert = certify(net, Y0, formats=["fp64", "fp16", "fp8_e4m3"], batch=s.batch)
    v = cert["fp8_e4m3"].layers
    assert v[2].max_error == 0 and v[2].total_at_risk == 10 and v[0].total_at_risk == 1
    return cert


@pytest.fixture(params=["gc_cert", "gc_fp32_acc"])
def any_cert(request):
    return request.getfixturevalue(request.param)


def _png_size(path) -> tuple[int, int]:
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR" and data[-8:-4] == b"IEND"
    return struct.unpack(">II", data[16:24])


def _section(md: str, head: str) -> str:
    """The text of a Markdown section, from its heading to the next heading of any level."""
    start = md.index(head + "\n")
    nxt = re.search(r"^#{1,6} ", md[start + len(head):], flags=re.M)
    return md[start:start + len(head) + (nxt.start() if nxt else len(md))]


def _table(text: str) -> list[list[str]]:
    rows = [ln for ln in text.splitlines() if ln.startswith("| ")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in rows[1:]
            if not ln.startswith("| ---")]


class TestFolder:
    def test_the_folder_holds_the_markdown_details_and_a_png(self, gc_cert, tmp_path):
        out = tmp_path / "rep"
        written = write_certificate_report(gc_cert, out, plot=plot_certificate)
        assert sorted(os.path.basename(p) for p in written) == \
            sorted(["report.md", "details.json", FIGURE])
        assert sorted(p.name for p in out.iterdir()) == \
            sorted(["report.md", "details.json", FIGURE, MARKER])
        w, h = _png_size(out / FIGURE)
        assert w > 100 and h > 100
        assert f"]({FIGURE})" in (out / "report.md").read_text()
        assert json.loads((out / MARKER).read_text())["kind"] == "certificate-report"

    def test_without_a_plot_no_figure_and_no_image_link(self, gc_cert, tmp_path):
        write_certificate_report(gc_cert, tmp_path / "rep")
        assert not (tmp_path / "rep" / FIGURE).exists()
        assert "![" not in (tmp_path / "rep" / "report.md").read_text()

    def test_a_folder_symdnn_did_not_write_is_refused_untouched(self, gc_cert, tmp_path):
        mine = tmp_path / "mine"
        mine.mkdir()
        (mine / "notes.txt").write_text("keep")
        before = sorted(tmp_path.rglob("*"))
        with pytest.raises(OutputError, match="not empty and was not written by symdnn"):
            write_certificate_report(gc_cert, mine, plot=plot_certificate, force=True)
        assert sorted(tmp_path.rglob("*")) == before
        assert (mine / "notes.txt").read_text() == "keep"

    def test_an_earlier_report_is_replaced_only_with_force(self, gc_cert, tmp_path):
        out = tmp_path / "rep"
        write_certificate_report(gc_cert, out)
        with pytest.raises(OutputError, match="force=True"):
            write_certificate_report(gc_cert, out, plot=plot_certificate)
        assert not (out / FIGURE).exists()
        write_certificate_report(gc_cert, out, plot=plot_certificate, force=True)
        assert (out / FIGURE).exists()

    @pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError(28, "No space left")])
    @pytest.mark.parametrize("empty", [False, True], ids=["new", "empty"])
    def test_an_interrupted_write_leaves_nothing(self, gc_cert, tmp_path, exc, empty):
        out = tmp_path / "rep"
        if empty:
            out.mkdir()

        def plot(result, path):  # writes part of the figure, then is interrupted
            with open(path, "wb") as fh:
                fh.write(b"\x89PNG half")
            raise exc

        with pytest.raises(type(exc) if isinstance(exc, BaseException) else exc):
            write_certificate_report(gc_cert, out, plot=plot)
        assert [p.name for p in tmp_path.iterdir()] == (["rep"] if empty else [])
        if empty:
            assert list(out.iterdir()) == []

    def test_with_the_other_outputs_of_a_command_all_or_none(self, gc_cert, tmp_path):
        """As ``symdnn certify --report DIR --json FILE`` will call it: the folder is placed
        only when the command ends well, and not at all when a later output fails."""
        out, js = tmp_path / "rep", tmp_path / "cert.json"
        with pytest.raises(OSError):
            with command_outputs([out, js]):
                write_certificate_report(gc_cert, out, plot=plot_certificate)
                assert not out.exists()  # not yet in place
                raise OSError(28, "No space left on device")  # writing the JSON fails
        assert list(tmp_path.iterdir()) == []
        with command_outputs([out, js]):
            write_certificate_report(gc_cert, out, plot=plot_certificate)
        assert (out / FIGURE).exists() and (out / "report.md").exists()

    def test_the_report_may_not_lie_inside_its_input(self, gc_cert, tmp_path):
        (tmp_path / "net").mkdir()
        with pytest.raises(OutputError, match="input"):
            write_certificate_report(gc_cert, tmp_path / "net" / "rep", inputs=[tmp_path])
        assert list((tmp_path / "net").iterdir()) == []


class TestMarkdown:
    def test_verdicts_per_format(self, gc_cert, tmp_path):
        write_certificate_report(gc_cert, tmp_path / "rep")
        md = (tmp_path / "rep" / "report.md").read_text()
        rows = {r[0]: r for r in _table(md.split("## Layers")[0])}
        assert set(rows) == set(FORMATS)
        for fc in gc_cert.formats:
            r = rows[fc.arith.fmt.name]
            assert r[2] == ("CERTIFIED" if fc.certified else "NOT certified")
            assert int(r[3]) == sum(fc.at_risk)
            assert int(r[4]) == sum(1 for k in fc.at_risk if k)
            assert (int(r[5]), int(r[6])) == (fc.categories_at_risk, fc.argmax_at_risk)

    def test_the_layers_at_risk_are_exactly_the_certificates(self, any_cert, tmp_path):
        write_certificate_report(any_cert, tmp_path / "rep")
        md = (tmp_path / "rep" / "report.md").read_text()
        table = _table(_section(md, "## Layers"))
        assert [int(r[0]) for r in table] == list(range(1, len(any_cert.margins) + 1))
        js = any_cert.to_json()
        fmts = list(js["formats"])
        for r in table:
            l = int(r[0])
            m, at = js["min_margin"][l - 1], js["min_margin_at"][l - 1]
            assert r[2] == ("-" if m is None else m)  # short: shown exactly
            assert r[3] == ("-" if at is None else
                            f"{at['input']}, {at['neuron']}, {at['kind']}")
            for k, fmt in enumerate(fmts):
                risk = re.search(r"\*\*(\d+) at risk\*\*", r[4 + k])
                assert (int(risk.group(1)) if risk else 0) == js["formats"][fmt]["at_risk"][l - 1]
        # the layers and counts in each format's section
        for fmt in (f for f in fmts if not js["formats"][f]["certified"]):
            acc = js["formats"][fmt]["accumulate"]
            sec = _section(md, f"### {fmt} (accumulate {acc})")
            said = re.search(r"Layers with decisions at risk: (.*?);", sec).group(1)
            want = ", ".join(f"{l} ({k})" for l, k in
                             enumerate(js["formats"][fmt]["at_risk"], 1) if k)
            assert said == want
        assert "None: CERTIFIED" in _section(md, "### fp64 (accumulate fp64)")

    def test_the_decisions_at_risk_are_the_certificates(self, gc_cert, tmp_path):
        """Each format's table of decisions against the certificate's JSON examples (written
        by other code), and the final categories and argmax against its own arrays."""
        write_certificate_report(gc_cert, tmp_path / "rep")
        md = (tmp_path / "rep" / "report.md").read_text()
        for fc in gc_cert.formats[1:]:
            fmt = fc.arith.fmt.name
            sec = _section(md, f"### {fmt} (accumulate {fmt})")
            rows = _table(sec)
            layer_rows = [r for r in rows if r[0] != "final"]
            final = [r for r in rows if r[0] == "final"]
            ex = gc_cert.to_json()["formats"][fmt]["examples"]
            ex_layers = [e for e in ex if e["kind"] not in ("category", "argmax")]
            assert len(ex_layers) <= len(layer_rows)
            for r, e in zip(layer_rows, ex_layers, strict=False):
                assert r[:5] == [str(e["layer"]), e["input"], e["neuron"], e["kind"],
                                 e["margin"]]
                assert Decimal(r[5]) >= Decimal(float(e["bound"]))  # rounded up
                assert Fraction(e["margin"]) <= float(e["bound"])  # really at risk
            named = sum(min(v.total_at_risk, len(v.examples)) for v in fc.layers)
            assert len(layer_rows) == named
            more = re.search(r"(\d+) more counted in their layers but not named", sec)
            assert (int(more.group(1)) if more else 0) == sum(fc.at_risk) - named
            for l, v in enumerate(fc.layers, 1):  # no layer without risk is listed
                assert (sum(r[0] == str(l) for r in layer_rows) > 0) == (v.total_at_risk > 0)
            want = sorted([("category", str(gc_cert.batch[i]))
                           for i, ok in enumerate(fc.final["category_ok"]) if not ok] +
                          [("argmax", str(gc_cert.batch[i]))
                           for i, ok in enumerate(fc.final["argmax_ok"]) if not ok])
            assert sorted((r[3], r[1]) for r in final) == want

    def test_a_format_certified_only_in_the_layers_says_so(self, tmp_path):
        """mixed, seed 1: fp64 certifies every layer but not every argmax."""
        cert = _cert("mixed", 1)
        fc = cert["fp64"]
        assert sum(fc.at_risk) == 0 and fc.argmax_at_risk and not fc.certified
        write_certificate_report(cert, tmp_path / "rep", plot=plot_certificate)
        sec = _section((tmp_path / "rep" / "report.md").read_text(),
                       "### fp64 (accumulate fp64)")
        assert "Layers with decisions at risk: none;" in sec
        rows = _table(sec)
        assert rows and all(r[0] == "final" and r[3] == "argmax" for r in rows)
        assert len(rows) == fc.argmax_at_risk

    def test_the_papers_words_at_beta_4_5(self, tmp_path):
        c = build_construction(builtin="words2", scheme="single", betas="4/5")
        cert = certify(c.net, c.inputs, formats=["fp8_e4m3", "bf16", "fp64"],
                       accumulate="same")
        write_certificate_report(cert, tmp_path / "rep", plot=plot_certificate)
        md = (tmp_path / "rep" / "report.md").read_text()
        assert "| fp8_e4m3 | fp8_e4m3 | NOT certified |" in md
        assert "| bf16 | bf16 | CERTIFIED |" in md and "| fp64 | fp64 | CERTIFIED |" in md
        assert "Smallest certified format: bf16." in md
        first = cert.to_json()["formats"]["fp8_e4m3"]["examples"][0]
        row = _table(_section(md, "### fp8_e4m3 (accumulate fp8_e4m3)"))[0]
        assert row[:5] == [str(first["layer"]), first["input"], first["neuron"],
                           first["kind"], first["margin"]]


class TestDetails:
    def test_details_hold_every_number_exactly(self, gc_cert, tmp_path):
        write_certificate_report(gc_cert, tmp_path / "rep")
        d = json.loads((tmp_path / "rep" / "details.json").read_text())
        js = gc_cert.to_json()
        assert [x["min_margin"] for x in d["layers"]] == js["min_margin"]
        for fmt in FORMATS:
            f = d["formats"][fmt]
            assert f["at_risk"] == js["formats"][fmt]["at_risk"]
            ex = js["formats"][fmt]["examples"]
            mine = [x for x in f["decisions_at_risk"] if x["layer"] != "final"]
            theirs = [e for e in ex if e["kind"] not in ("category", "argmax")]
            assert mine[:len(theirs)] == theirs
            v = gc_cert[fmt].layers
            for x in mine:  # against the verdicts' own numerators and scales
                key, kind, num, bound = next(
                    t for t in v[x["layer"] - 1].examples
                    if t[1] == x["kind"] and float(repr(t[3])) == float(x["bound"])
                    and Fraction(t[2], v[x["layer"] - 1].s) == Fraction(x["margin"]))
                assert kind == x["kind"]
            for x, row in zip(d["layers"], certificate_layers(gc_cert), strict=True):
                assert float(x["bound"][fmt]) == row.bound[fmt]
                assert row.bound[fmt] >= gc_cert[fmt].layers[row.layer - 1].max_error

    def test_each_layer_bound_reaches_the_margin_of_its_decisions_at_risk(self, any_cert):
        """Where a format has decisions at risk its line is never below their bounds, so
        never below their margins, even where nothing is carried out of the layer."""
        rows = certificate_layers(any_cert)
        for fc in any_cert.formats:
            fmt = fc.arith.fmt.name
            for r in decisions_at_risk(any_cert, fmt):
                if r.layer != "final":
                    assert rows[r.layer - 1].bound[fmt] >= r.bound > 0
                    assert r.margin <= Fraction(r.bound)
            for row in rows:
                assert (row.at_risk[fmt] > 0) == (fc.layers[row.layer - 1].total_at_risk > 0)


class TestNumbers:
    def test_short_rationals_are_shown_exactly_long_ones_approximately(self):
        rng = random.Random(27)
        for _ in range(300):
            x = Fraction(rng.randrange(-10 ** 6, 10 ** 6),
                         rng.randrange(1, 10 ** rng.randrange(1, 30)))
            t = exact_text(x)
            if len(str(x)) <= 24:
                assert Fraction(t) == x
            else:
                assert t.startswith("~") and math.isclose(float(t[1:]), float(x), rel_tol=1e-4)
        assert exact_text(Fraction(1, 2 ** 1200)) == "~2^-1200"
        assert exact_text(Fraction(3 ** 1000, 7)).startswith("~2^")

    def test_bounds_are_shown_rounded_up(self):
        rng = random.Random(14)
        for _ in range(500):
            b = math.ldexp(rng.random(), rng.randrange(-80, 40))
            shown = Decimal(bound_text(b))
            assert shown >= Decimal(b)
            assert shown <= Decimal(b) * Decimal("1.001")
        assert bound_text(0.0) == "0 (exact)" and bound_text(math.inf) == "inf (overflow)"


class TestPlot:
    def test_zero_margins_zero_and_infinite_bounds_still_plot(self, tmp_path):
        """An overflow (an infinite bound), an exact layer (bound 0) and a zero margin."""
        cert = _cert("huge", 0)
        assert any(math.isinf(b) for r in certificate_layers(cert) for b in r.bound.values())
        ints = _cert("integer", 3, L=3)
        assert any(b == 0 for r in certificate_layers(ints) for b in r.bound.values())
        for c, name in ((cert, "huge.png"), (ints, "ints.png")):
            plot_certificate(c, tmp_path / name)
            assert _png_size(tmp_path / name)[0] > 0
        write_certificate_report(cert, tmp_path / "rep", plot=plot_certificate)
        assert "inf (overflow)" in (tmp_path / "rep" / "report.md").read_text()

    def test_a_plot_path_must_name_a_figure(self, gc_cert, tmp_path):
        with pytest.raises(OutputError, match="must end in"):
            plot_certificate(gc_cert, tmp_path / "plot.txt")
        assert list(tmp_path.iterdir()) == []


def test_the_command_writes_the_report_with_the_json_and_refuses_it_with_check(tmp_path,
                                                                             capsys):
    from symdnn.cli import main
    net = tmp_path / "w2"
    assert main(["build", "--builtin", "words2", "--beta", "4/5", "--out", str(net),
                 "--quiet"]) == 0
    rep, cert = tmp_path / "rep", tmp_path / "c.json"
    code = main(["certify", str(net), "--formats", "fp16,fp8_e4m3", "--accumulate", "same",
                 "--report", str(rep), "--json", str(cert), "--quiet"])
    assert code == 1  # fp8_e4m3 summing in fp8 is not certified
    assert {p.name for p in rep.iterdir()} >= {"report.md", "details.json", "certificate.png"}
    md = (rep / "report.md").read_text()
    assert "| fp8_e4m3 | fp8_e4m3 | NOT certified |" in md and "| fp16 | fp16 | CERTIFIED |" in md
    assert json.loads(cert.read_text())["formats"]["fp8_e4m3"]["certified"] is False
    capsys.readouterr()
    assert main(["certify", "--check", str(cert), str(net), str(net / "inputs.tsv"),
                 "--report", str(tmp_path / "r2")]) == 2
    assert "--report is for certifying" in capsys.readouterr().err
    assert not (tmp_path / "r2").exists()
