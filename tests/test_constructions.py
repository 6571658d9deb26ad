"""Constructions of §III-V and the verifier: the paper's Fig. 6 from its own feature lists,
every construction exact in all five formulations, betas that break exactness reported with
the layer where inputs die, images whose pixels are contained in others' found by an
independent set computation, bad input, the CLI and figures."""

from __future__ import annotations

import gzip
import json
import struct

import numpy as np
import pytest

from symdnn import AssocArray, ParseError, SymdnnError
from symdnn.cli import main
from symdnn.constructions import (
    collapse,
    combinatoric,
    images,
    load_construction,
    mnist,
    parse_scheme,
    selective,
)
from symdnn.data import words
from symdnn.io.idx import read_idx, write_idx
from symdnn.verification import FORMULATIONS
from tests.datafiles import full_file

# The paper, section V, verbatim: the 37 words and the first- and second-letter lists of Fig. 6
F12 = ("ad ah am as at be by do go ha he hi ie if in it me mr ms my no of oh ok on or pc pm re "
       "so to tv uh up us vs we").split()
F1_ORDERED = "a a a a a b b d g h h h i i i i m m m m n o o o o o p p r s t t u u u v w".split()
F2_ORDERED = "d h m s t e y o o a e i e f n t e r s y o f h k n r c m e o o v h p s s e".split()
F1_SET = "a b d g h i m n o p r s t u v w".split()
F2_SET = "a c d e f h i k m n o p r s t v y".split()


def test_bundled_words_are_the_papers():
    assert words("words2") == F12


def test_figure_6_from_the_papers_own_lists():
    W0 = selective(words("words2")).net.layers[0].W
    paper = AssocArray.eye(F12, [f"1{x}" for x in F1_ORDERED]) + \
        AssocArray.eye(F12, [f"2{x}" for x in F2_ORDERED])
    assert W0.isequal(paper.convert_to("QQ"))
    assert W0.shape == (37, 33)
    assert [k[1] for k in W0.col() if k[0] == "1"] == F1_SET  # 16 first letters
    assert [k[1] for k in W0.col() if k[0] == "2"] == F2_SET  # 17 second letters


SMALL4 = words("words4")[:40]


def constructions():
    yield "two-letter", selective(words("words2"))
    yield "pairs-4", selective(SMALL4, "pairs")
    yield "chain-4", selective(SMALL4, "chain")
    yield "three2", selective(words("words3")[:40], "three2")
    yield "chain-3", selective(words("words3")[:40], "chain")
    yield "scheme-text", selective(SMALL4, "12,3,4/1234")
    yield "comb-2222", combinatoric([["1a", "1b"], ["2a", "2b"], ["3a", "3b"], ["4a", "4b"]])
    yield "comb-321", combinatoric([["a", "b", "c"], ["x", "y"], ["p"]])
    yield "comb-single", combinatoric([["a", "b"], ["x", "y", "z"]], layers=1)
    rng = np.random.default_rng(0)
    imgs = rng.random((12, 8, 9)) < 0.4
    yield "images", images(imgs, contained="drop")


@pytest.mark.parametrize("formulation", FORMULATIONS)
@pytest.mark.parametrize("name,c", list(constructions()), ids=[n for n, _ in constructions()])
def test_every_construction_is_exact_in_every_formulation(name, c, formulation):
    v = c.verify(formulation=formulation)
    assert v.exact and v.identity, v.summary()
    assert v.output.isequal(c.expected)


def test_betas_below_one_give_a_positive_diagonal_of_known_value():
    # two layers (pairs), beta0 = 4/5, beta1 = 1: each pair neuron gives 4/5, the word
    # 2 * 4/5 + 1 - 2 = 3/5
    v = selective(SMALL4, "pairs", ["4/5", 1]).verify()
    assert v.exact and not v.identity
    assert set(map(str, v.diagonal.values())) == {"3/5"}


def test_betas_that_never_select_are_reported_with_the_layer():
    v = selective(SMALL4, "chain", ["1/2", "3/4", 1]).verify()
    assert not v.exact and len(v.failing()) == len(SMALL4)
    f = v.failures[0]
    assert f.kind == "silent"
    # layer 1: two n-grams at 1/2 each, bias 3/4 - 2: 1/2 + 1/2 + 3/4 - 2 = -1/4
    assert "dies at layer 1" in f.reason and "-1/4" in f.reason


def test_containment_makes_crosstalk_and_the_reason_says_so():
    imgs = np.zeros((3, 4, 4), dtype=bool)
    imgs[0, 0, :2] = True           # {aa, ab}
    imgs[1, 0, :3] = True           # {aa, ab, ac}: contains image 0
    imgs[2, 3, 3] = True
    c = images(imgs, labels=[7, 1, 4])
    assert c.params["contained"] == [("00000:7", "00001:1")]
    v = c.verify()
    assert not v.exact and v.failing() == ["00000:7"]
    assert v.failures[0].inputs == ("00001:1",)
    assert "contained in" in v.failures[0].reason
    dropped = images(imgs, labels=[7, 1, 4], contained="drop")
    assert dropped.params["dropped"] == ["00000:7"] and dropped.verify().identity


def test_identical_images_keep_the_first_when_dropping():
    imgs = np.zeros((2, 3, 3), dtype=bool)
    imgs[:, 1, 1] = True
    c = images(imgs)
    assert set(c.params["contained"]) == {("00000", "00001"), ("00001", "00000")}
    assert "same features" in c.verify().failures[0].reason
    assert images(imgs, contained="drop").categories == ("00000",)


def test_combinatoric_collapse_two_ways_and_count():
    c = combinatoric([["a", "b", "c"], ["x", "y"], ["p", "q"], ["u", "v", "w", "z"]])
    assert len(c.categories) == 3 * 2 * 2 * 4
    W0, W1 = c.net.layers[0].W, c.net.layers[1].W
    assert collapse(W1, W0).isequal(collapse(W1, W0, how="max_times"))
    assert all(len(set(k)) == 4 for k in c.categories)


# ------------------------------------------------------------------ real MNIST
@pytest.fixture
def mnist_files():
    return (full_file("mnist/t10k-images-idx3-ubyte.gz"),
            full_file("mnist/t10k-labels-idx1-ubyte.gz"))


def test_first_1000_mnist_images_exact_or_reported_precisely(mnist_files):
    imgs_path, labels_path = mnist_files
    c = mnist(imgs_path, labels_path, count=1000)
    v = c.verify()
    # independent oracle: pixel sets as Python sets, containment by brute force
    raw = read_idx(imgs_path)[:1000, 1:27, 1:27]
    sets = [frozenset(zip(*np.nonzero(img >= 128), strict=True)) for img in raw]
    contained = {i for i in range(1000) for j in range(1000) if i != j and sets[i] <= sets[j]}
    assert {int(k.split(":")[0]) for k in v.failing()} == contained
    assert all(f.kind == "crosstalk" and "contained" in f.reason or "same" in f.reason
               for f in v.failures)
    kept = mnist(imgs_path, labels_path, count=1000, contained="drop")
    assert len(kept.categories) == 1000 - len(contained) and kept.verify().identity


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("ws,scheme,match", [
    ([], "single", "empty"),
    (["ab", "abc"], "single", "one length"),
    (["ab", "ab"], "single", "duplicate category 'ab'"),
    (["abcd"], "12,3/1234", "not cover positions \\[4\\]"),
    (["abcd"], "12,34/12,34", "last layer must be the whole word"),
    (["abcd"], "12,35/1234", "outside 1..4"),
    (["abcd"], "12,34/124,34/1234", "not covered by the groups"),
    (["abc"], "nonsense", "not positions"),
    (["abcd"], "three2", "three-letter"),
])
def test_bad_words_and_schemes(ws, scheme, match):
    with pytest.raises(SymdnnError, match=match):
        selective(ws, scheme)


def test_scheme_text_and_names_agree():
    assert parse_scheme("12,23,34/123,234/1234", 4) == parse_scheme("chain", 4)
    assert parse_scheme("1.2,3.4/1.2.3.4", 4) == parse_scheme("pairs", 4)


@pytest.mark.parametrize("arr,match", [
    (np.full((2, 3, 3), 2), "not binary"),
    (np.zeros((2, 27, 3), dtype=bool), "at most 26 x 26"),
    (np.zeros((3, 3), dtype=bool), "N x H x W"),
])
def test_bad_images(arr, match):
    with pytest.raises(SymdnnError, match=match):
        images(arr)


def test_idx_round_trip_and_corrupt_headers(tmp_path):
    rng = np.random.default_rng(1)
    raw = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "img.idx.gz", raw)
    write_idx(tmp_path / "lab.idx", np.arange(5, dtype=np.uint8))
    assert np.array_equal(read_idx(tmp_path / "img.idx.gz"), raw)
    c = mnist(tmp_path / "img.idx.gz", tmp_path / "lab.idx", count=3, start=1)
    assert c.categories[0].startswith("00001:1")
    (tmp_path / "bad1").write_bytes(b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00")
    (tmp_path / "bad2").write_bytes(b"\x00\x00\x08\x01" + struct.pack(">I", 5) + b"\x00")
    (tmp_path / "bad3").write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00")
    (tmp_path / "bad4.gz").write_bytes(gzip.compress(b"\x00" * 100)[:20])
    for name, match in (("bad1", "two zero bytes"), ("bad2", "need 5 data bytes"),
                        ("bad3", "unknown type code"), ("bad4.gz", "gzip|IDX")):
        with pytest.raises(ParseError, match=match):
            read_idx(tmp_path / name)


def test_mnist_images_must_be_28_by_28_bytes(tmp_path):
    write_idx(tmp_path / "img.idx", np.zeros((2, 20, 20), dtype=np.uint8))
    with pytest.raises(SymdnnError, match="28 x 28"):
        mnist(tmp_path / "img.idx")


# ------------------------------------------------------------------ files, CLI, figures
def test_build_verify_round_trip_through_a_folder(tmp_path, capsys):
    assert main(["build", "--builtin", "words2", "--out", str(tmp_path / "w2"),
                 "--plot", str(tmp_path / "w0.svg")]) == 0
    assert (tmp_path / "w0.svg").read_text().lstrip().startswith("<?xml")
    c = load_construction(str(tmp_path / "w2"))
    assert c.net.layers[0].W.isequal(selective(words("words2")).net.layers[0].W)
    assert main(["verify", str(tmp_path / "w2"), "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):])["exact"] is True


def test_cli_verify_exits_1_when_not_exact(tmp_path, capsys):
    (tmp_path / "w.txt").write_text("abcd\nabce\n# a comment\nbcde\n")
    assert main(["build", "--words", str(tmp_path / "w.txt"), "--scheme", "chain",
                 "--beta", "1/2,3/4,1", "--out", str(tmp_path / "n")]) == 0
    assert main(["verify", str(tmp_path / "n")]) == 1
    assert "dies at layer 1" in capsys.readouterr().out


def test_cli_build_combinatoric(tmp_path, capsys):
    assert main(["build", "--combinatoric", "2,3,2", "--out", str(tmp_path / "c")]) == 0
    assert "12 categories" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "c"), "--formulation", "collapsed"]) == 0


def test_figures_png_and_svg(tmp_path):
    from symdnn.plotting import draw_network, spy

    c = selective(SMALL4[:6], "chain")
    spy(c.net.layers[1].W, tmp_path / "w1.png")
    spy(combinatoric([[f"{i}{j}" for j in "abcdefgh"] for i in range(1, 5)]).net.layers[1].W,
        tmp_path / "big.svg")
    draw_network(c.net, tmp_path / "net.png")
    assert (tmp_path / "w1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (tmp_path / "big.svg").read_text()
    assert (tmp_path / "net.png").stat().st_size > 1000
