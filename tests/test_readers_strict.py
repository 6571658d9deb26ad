"""The strict readers: one named regression test per malformed-input case of issue 11.

Each test asserts a :class:`ParseError` whose message names the file and, where there is one,
the line (``path:line: ...``). Cases that must still read (blank lines, CRLF, symmetric
MatrixMarket files, valid network folders) are checked for the exact answer.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import struct
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from symdnn import AssocArray, ParseError, SymdnnError
from symdnn.constructions import selective
from symdnn.io import read_categories, read_images, read_layer
from symdnn.io.idx import read_idx, write_idx
from symdnn.io.mtx import read_mtx
from symdnn.network import read_network, write_network
from tests.datafiles import GC_FIXTURE

PATTERN = "%%MatrixMarket matrix coordinate pattern general\n"
REAL = "%%MatrixMarket matrix coordinate real general\n"


def fails(fn, path, line=None, match=None) -> ParseError:
    """Call ``fn(path)``; assert a ParseError naming ``path`` (and ``line``) and matching."""
    with pytest.raises(ParseError) as info:
        fn(path)
    err = info.value
    text = str(err)
    assert str(path) in text, text
    assert err.path == str(path)
    if line is not None:
        assert err.line == line, text
        assert f"{path}:{line}: " in text, text
    if match is not None:
        assert re.search(match, text), text
    return err


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    p = tmp_path / name
    if name.endswith(".gz"):
        data = gzip.compress(data.encode() if isinstance(data, str) else data)
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


# ------------------------------------------------------------------ layer files
class TestLayer:
    def test_four_column_layer_file_is_an_error(self, tmp_path):
        p = write(tmp_path, "l.tsv", "1\t2\t0.5\t7\n2\t1\t0.5\t7\n3\t3\t0.5\t7\n")
        fails(lambda q: read_layer(q, 4), p, 1, "expected 3 fields, found 4")

    def test_two_field_line_then_four_field_line_is_an_error(self, tmp_path):
        # 6 tokens: the old reader reshaped them by 3 into two wrong triples
        p = write(tmp_path, "l.tsv", "1\t2\t0.5\n3\t4\n1\t1\t0.5\t2\n")
        fails(lambda q: read_layer(q, 4), p, 2, "expected 3 fields, found 2")

    def test_repeated_entry_names_both_lines(self, tmp_path):
        p = write(tmp_path, "l.tsv", "1\t2\t0.5\n2\t2\t1\n1\t2\t0.25\n")
        fails(lambda q: read_layer(q, 4), p, 3, r"repeated entry \(1, 2\), first on line 1")

    def test_non_utf8_bytes_name_the_line(self, tmp_path):
        p = write(tmp_path, "l.tsv", b"1\t2\t0.5\n2\t1\t0.5\xff\n")
        fails(lambda q: read_layer(q, 4), p, 2, "not UTF-8")

    def test_truncated_gzip_is_an_error(self, tmp_path):
        p = tmp_path / "l.tsv.gz"
        p.write_bytes(gzip.compress(b"1\t2\t0.5\n" * 200)[:-12])
        fails(lambda q: read_layer(q, 4), p, match="truncated|corrupt|gzip")

    def test_corrupt_gzip_is_an_error(self, tmp_path):
        raw = bytearray(gzip.compress(b"1\t2\t0.5\n" * 200))
        raw[len(raw) // 2] ^= 0xFF
        p = tmp_path / "l.tsv.gz"
        p.write_bytes(bytes(raw))
        fails(lambda q: read_layer(q, 4), p, match="gzip")

    def test_plain_text_named_gz_is_an_error(self, tmp_path):
        p = tmp_path / "l.tsv.gz"
        p.write_bytes(b"1\t2\t0.5\n")
        fails(lambda q: read_layer(q, 4), p, match="not a valid gzip file")

    @pytest.mark.parametrize("value", ["inf", "-inf", "nan", "NaN", "Infinity"])
    def test_infinite_or_nan_value_is_an_error(self, tmp_path, value):
        p = write(tmp_path, "l.tsv", f"1\t2\t0.5\n2\t1\t{value}\n")
        fails(lambda q: read_layer(q, 4), p, 2, "not finite")

    def test_huge_exponent_is_refused_not_expanded(self, tmp_path):
        p = write(tmp_path, "l.tsv", "1\t2\t1e999999999\n")
        fails(lambda q: read_layer(q, 4), p, 1, "exponent")

    def test_value_beyond_int64_over_the_denominator_is_an_error(self, tmp_path):
        p = write(tmp_path, "l.tsv", "1\t2\t1e19\n2\t1\t0.5\n")
        fails(lambda q: read_layer(q, 4), p, 1, "out of range")

    def test_underscores_and_hex_are_not_integers(self, tmp_path):
        fails(lambda q: read_layer(q, 20), write(tmp_path, "a.tsv", "1_0\t2\t1\n"), 1,
              "field 1 is not an integer: '1_0'")
        fails(lambda q: read_layer(q, 20), write(tmp_path, "b.tsv", "1\t0x1\t1\n"), 1,
              "field 2 is not an integer")

    def test_index_beyond_int64_is_an_error(self, tmp_path):
        p = write(tmp_path, "l.tsv", "1\t2\t1\n99999999999999999999999\t1\t1\n")
        fails(read_layer, p, 2, "out of range")

    def test_stray_byte_without_newline(self, tmp_path):
        p = write(tmp_path, "l.tsv", "1\t2\t0.5\n2\t1\t0.5x")
        fails(lambda q: read_layer(q, 4), p, 2, "bad value")

    def test_blank_lines_crlf_and_spaces_still_read(self, tmp_path):
        p = write(tmp_path, "l.tsv", "\n1 2\t0.5\r\n\n  2\t1   -1/4  \r\n\n")
        g = read_layer(p, 2)
        assert g.d == 4 and g.N.toarray().tolist() == [[0, 2], [-1, 0]]

    def test_empty_layer_file_is_an_empty_layer(self, tmp_path):
        g = read_layer(write(tmp_path, "l.tsv", ""), 3)
        assert g.N.shape == (3, 3) and g.N.nnz == 0 and g.d == 1

    def test_directory_instead_of_file(self, tmp_path):
        fails(read_layer, tmp_path, match="cannot read")


# ------------------------------------------------------------------ image files
class TestImages:
    def test_repeated_image_feature_entry_is_an_error_not_a_sum(self, tmp_path):
        p = write(tmp_path, "img.tsv", "1\t1\t1\n2\t3\t1\n1\t1\t1\n")
        fails(lambda q: read_images(q, 4), p, 3,
              "repeated entry: image 1, feature 1, first on line 1")

    @pytest.mark.parametrize("value,match", [
        ("1e19", "out of range"), ("1e400", "out of range"), ("inf", "not finite"),
        ("-inf", "not finite"), ("nan", "not finite"), ("4611686018427387904", "out of range"),
        ("0.5", "must be integers"), ("1e99999", "exponent"),
    ])
    def test_mtx_pixel_out_of_int64_or_not_finite(self, tmp_path, value, match):
        p = write(tmp_path, "img.mtx", f"{REAL}2 4 2\n1 1 1\n2 4 {value}\n")
        fails(read_images, p, 4, match)

    @pytest.mark.parametrize("value", ["1e19", "1e400", "inf", "9223372036854775808"])
    def test_tsv_pixel_out_of_int64_or_not_finite(self, tmp_path, value):
        p = write(tmp_path, "img.tsv", f"1\t1\t1\n2\t4\t{value}\n")
        fails(lambda q: read_images(q, 4), p, 2, "out of range|not finite")

    def test_integer_mtx_value_beyond_int64(self, tmp_path):
        p = write(tmp_path, "img.mtx", "%%MatrixMarket matrix coordinate integer general\n"
                                       "2 4 1\n2 4 99999999999999999999\n")
        fails(read_images, p, 3, "out of range")

    def test_stray_byte_at_the_end_of_an_mtx_file(self, tmp_path):
        p = write(tmp_path, "img.mtx", f"{PATTERN}2 4 2\n1 1\n2 4x")
        fails(read_images, p, 4, "column index is not an integer: '4x'")

    def test_stray_byte_at_the_end_of_the_official_image_file(self, tmp_path, gc_dir):
        src = gc_dir / "sparse-images-1024_subset.mtx"
        if not src.is_file():
            pytest.skip(f"needs {src.name} (LAGraph's first 1200 images, data/dnn_data) in "
                        "$SYMDNN_DATA/graphchallenge")
        p = tmp_path / "img.mtx"
        p.write_bytes(src.read_bytes().rstrip(b"\n") + b"x")
        fails(lambda q: read_images(q, 1024), p, 122721, "not an integer")

    def test_stray_byte_at_the_end_of_the_fixture_image_file(self, tmp_path):
        src = GC_FIXTURE / "sparse-images-1024_subset.mtx"  # 7 lines, then 16265 entries
        p = tmp_path / "img.mtx"
        p.write_bytes(src.read_bytes().rstrip(b"\n") + b"x")
        fails(lambda q: read_images(q, 1024), p, 16272, "not an integer")

    def test_stray_byte_in_a_truth_mtx_file(self, tmp_path):
        p = write(tmp_path, "t.mtx", f"{PATTERN}9 1 2\n3 1\n5 1x")
        fails(read_categories, p, 4, "not an integer")

    def test_non_utf8_bytes_in_an_mtx_file(self, tmp_path):
        p = write(tmp_path, "img.mtx", PATTERN.encode() + b"% caf\xe9\n2 4 1\n1 1\n")
        fails(read_images, p, 2, "not UTF-8")

    def test_truncated_gzip_mtx(self, tmp_path):
        p = tmp_path / "img.mtx.gz"
        p.write_bytes(gzip.compress((PATTERN + "2 4 1\n1 1\n").encode() * 50)[:40])
        fails(read_images, p, match="gzip")

    def test_repeated_mtx_entry_names_both_lines(self, tmp_path):
        p = write(tmp_path, "img.mtx", f"{PATTERN}% c\n2 4 3\n1 1\n2 2\n1 1\n")
        fails(read_images, p, 6, r"repeated entry \(1, 1\), first on line 4")

    def test_feature_count_must_match_the_network(self, tmp_path):
        p = write(tmp_path, "img.mtx", f"{PATTERN}2 4 1\n1 1\n")
        fails(lambda q: read_images(q, 5), p, match="4 features, the network 5")

    def test_tsv_feature_beyond_the_width(self, tmp_path):
        p = write(tmp_path, "img.tsv", "1\t1\t1\n2\t9\t1\n")
        fails(lambda q: read_images(q, 4), p, 2, "feature beyond the network width 4")

    def test_tsv_values_may_be_written_as_exact_integers(self, tmp_path):
        p = write(tmp_path, "img.tsv", "1\t1\t1.0\n2\t2\t3e0\n2\t3\t0\n")
        assert read_images(p, 3).toarray().tolist() == [[1, 0, 0], [0, 3, 0]]


# ------------------------------------------------------------------ MatrixMarket headers
class TestMatrixMarket:
    @pytest.mark.parametrize("header,match", [
        ("%%MatrixMarket matrix array real general", "array"),
        ("%%MatrixMarket matrix coordinate complex general", "complex"),
        ("%%MatrixMarket matrix coordinate real skew-symmetric", "skew-symmetric"),
        ("%%MatrixMarket matrix coordinate real hermitian", "hermitian"),
        ("%%MatrixMarket vector coordinate real general", "object 'vector'"),
        ("%%MatrixMarket matrix coordinate real", "the header must be"),
        ("%%MatrixMarket matrix coordinate real general extra", "the header must be"),
        ("% just a comment", "not a MatrixMarket file"),
        ("3 3 1", "not a MatrixMarket file"),
    ])
    def test_unsupported_or_missing_header(self, tmp_path, header, match):
        p = write(tmp_path, "a.mtx", f"{header}\n3 3 1\n1 1 1\n")
        fails(read_mtx, p, 1, match)

    def test_header_words_are_case_insensitive(self, tmp_path):
        p = write(tmp_path, "a.mtx", "%%matrixmarket MATRIX Coordinate Integer GENERAL\n"
                                     "2 2 1\n2 1 -7\n")
        m = read_mtx(p)
        assert (m.rows.tolist(), m.cols.tolist(), m.values.tolist()) == ([1], [0], [-7])

    @pytest.mark.parametrize("size,line,match", [
        ("2 4", 2, "size line must be"), ("2 4 1 1", 2, "size line must be"),
        ("2 -4 1", 2, "size line must be"), ("2 4 x", 2, "size line must be"),
        ("2 4 9", 2, "more than a 2 x 4"), (f"{2**40} 4 1", 2, "largest dimension"),
    ])
    def test_bad_size_line(self, tmp_path, size, line, match):
        p = write(tmp_path, "a.mtx", f"{PATTERN}{size}\n1 1\n")
        fails(read_mtx, p, line, match)

    def test_no_size_line(self, tmp_path):
        fails(read_mtx, write(tmp_path, "a.mtx", f"{PATTERN}% only comments\n"),
              match="no size line")

    def test_fewer_entries_than_declared(self, tmp_path):
        p = write(tmp_path, "a.mtx", f"{PATTERN}2 4 3\n1 1\n2 2\n")
        fails(read_mtx, p, 4, "declares 3 entries, the file has 2")

    def test_more_entries_than_declared(self, tmp_path):
        p = write(tmp_path, "a.mtx", f"{PATTERN}2 4 1\n1 1\n2 2\n\n")
        fails(read_mtx, p, 4, "more entries than the 1")

    def test_comment_after_the_size_line(self, tmp_path):
        p = write(tmp_path, "a.mtx", f"{PATTERN}2 4 2\n1 1\n% late\n2 2\n")
        fails(read_mtx, p, 4, "comment line after the size line")

    def test_wrong_number_of_fields(self, tmp_path):
        fails(read_mtx, write(tmp_path, "a.mtx", f"{PATTERN}2 4 1\n1 1 1\n"), 3,
              "expected 2 fields, found 3")
        fails(read_mtx, write(tmp_path, "b.mtx", f"{REAL}2 4 1\n1 1\n"), 3,
              "expected 3 fields, found 2")

    def test_indices_outside_the_declared_size(self, tmp_path):
        fails(read_mtx, write(tmp_path, "a.mtx", f"{PATTERN}2 4 1\n3 1\n"), 3,
              "row index 3 is beyond 2")
        fails(read_mtx, write(tmp_path, "b.mtx", f"{PATTERN}2 4 1\n1 0\n"), 3,
              "must be a 1-based index, not 0")

    def test_integer_field_refuses_decimals(self, tmp_path):
        p = write(tmp_path, "a.mtx", "%%MatrixMarket matrix coordinate integer general\n"
                                     "2 4 1\n1 1 1.5\n")
        fails(read_mtx, p, 3, "integer value is not an integer")

    def test_real_values_are_exact(self, tmp_path):
        m = read_mtx(write(tmp_path, "a.mtx", f"{REAL}1 2 2\n1 1 0.1\n1 2 -6.25E-02\n"))
        assert m.values.tolist() == [Fraction(1, 10), Fraction(-1, 16)]

    def test_symmetric_is_mirrored(self, tmp_path):
        p = write(tmp_path, "a.mtx", "%%MatrixMarket matrix coordinate integer symmetric\n"
                                     "3 3 2\n2 2 5\n3 1 4\n")
        m = read_mtx(p)
        got = sorted(zip(m.rows.tolist(), m.cols.tolist(), m.values.tolist(), strict=True))
        assert got == [(0, 2, 4), (1, 1, 5), (2, 0, 4)]

    def test_symmetric_upper_triangle_entry_is_an_error(self, tmp_path):
        p = write(tmp_path, "a.mtx", "%%MatrixMarket matrix coordinate pattern symmetric\n"
                                     "3 3 1\n1 3\n")
        fails(read_mtx, p, 3, "above the diagonal")

    def test_symmetric_must_be_square(self, tmp_path):
        p = write(tmp_path, "a.mtx", "%%MatrixMarket matrix coordinate pattern symmetric\n"
                                     "3 4 1\n1 1\n")
        fails(read_mtx, p, 2, "must be square")


# ------------------------------------------------------------------ truth files
class TestTruth:
    def test_repeated_image_number_names_both_lines(self, tmp_path):
        p = write(tmp_path, "cat.tsv", "3\n9\n\n3\n")
        fails(read_categories, p, 4, "repeated image number 3, first on line 1")

    def test_extra_field_is_an_error(self, tmp_path):
        p = write(tmp_path, "cat.tsv", "3\n9\t1\n")
        fails(read_categories, p, 2, "expected 1 field, found 2")

    @pytest.mark.parametrize("v", ["0", "-2", "2.5", "x", "1e3", "inf"])
    def test_image_numbers_are_positive_integers(self, tmp_path, v):
        p = write(tmp_path, "cat.tsv", f"1\n{v}\n")
        fails(read_categories, p, 2)

    def test_truth_mtx_must_be_one_column(self, tmp_path):
        p = write(tmp_path, "cat.mtx", f"{PATTERN}5 2 1\n3 2\n")
        fails(read_categories, p, match="one column")

    def test_valued_truth_mtx_entries_must_be_one(self, tmp_path):
        p = write(tmp_path, "cat.mtx", f"{REAL}5 1 2\n3 1 1\n4 1 0\n")
        fails(read_categories, p, 4, "must be 1")

    def test_repeated_truth_mtx_entry(self, tmp_path):
        p = write(tmp_path, "cat.mtx", f"{PATTERN}5 1 2\n3 1\n3 1\n")
        fails(read_categories, p, 4, "repeated entry")

    def test_gzipped_truth_reads(self, tmp_path):
        assert read_categories(write(tmp_path, "cat.tsv.gz", "7\n2\n")).tolist() == [2, 7]


# ------------------------------------------------------------------ IDX files
class TestIDX:
    def header(self, code: int, dims: tuple) -> bytes:
        return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)

    @pytest.mark.parametrize("data,match", [
        (b"\x00\x01\x08\x01\x00\x00\x00\x01\x00", "two zero bytes"),
        (b"\x00\x00\x08", "two zero bytes"),
        (b"\x00\x00\x0a\x01\x00\x00\x00\x01\x00", "unknown type code 0x0a"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x02\x00\x00\x00\x01", "header is cut short"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x03\x00\x00", "need 3 data bytes, the file has 2"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x00\x00", "need 1 data bytes, the file has 2"),
    ])
    def test_bad_headers_and_sizes(self, tmp_path, data, match):
        fails(read_idx, write(tmp_path, "x.idx", data), match=match)

    def test_dimensions_whose_product_overflows_int64(self, tmp_path):
        data = self.header(0x0E, (2**32 - 1,) * 3) + b"\x00" * 8
        fails(read_idx, write(tmp_path, "x.idx", data), match="need")

    def test_truncated_and_corrupt_gzip(self, tmp_path):
        good = gzip.compress(self.header(0x08, (100,)) + bytes(100))
        fails(read_idx, write(tmp_path, "a.idx", good[:-6]), match="gzip")
        bad = bytearray(good)
        bad[12] ^= 0xFF
        fails(read_idx, write(tmp_path, "b.idx", bytes(bad)), match="gzip|IDX")
        fails(read_idx, write(tmp_path, "c.idx", good + b"trailing junk"), match="gzip")

    def test_gzip_that_expands_beyond_the_header_stops_early(self, tmp_path):
        data = gzip.compress(self.header(0x08, (10,)) + bytes(50_000_000))
        err = fails(read_idx, write(tmp_path, "bomb.idx", data), match="need 10 data bytes")
        assert "or more" in str(err)

    def test_float_data_must_be_finite(self, tmp_path):
        arr = np.array([1.0, np.nan], dtype=np.float32)
        write_idx(tmp_path / "f.idx", arr)
        fails(read_idx, tmp_path / "f.idx", match="finite")

    def test_round_trip(self, tmp_path):
        arr = np.arange(12, dtype=np.int16).reshape(3, 4) - 5
        write_idx(tmp_path / "a.idx.gz", arr)
        assert np.array_equal(read_idx(tmp_path / "a.idx.gz"), arr)


# ------------------------------------------------------------------ network folders
@pytest.fixture
def netdir(tmp_path) -> Path:
    c = selective(["ad", "be"], "single", ["1/2"])
    return write_network(tmp_path / "net", c.net, inputs=c.inputs)


def edit_spec(folder: Path, change) -> Path:
    spec = folder / "network.json"
    doc = json.loads(spec.read_text())
    change(doc)
    spec.write_text(json.dumps(doc))
    return spec


class TestNetworkFolder:
    def test_valid_folder_reads(self, netdir):
        net, info = read_network(netdir)
        assert net.depth == 1 and info["inputs"].shape == (4, 2)

    @pytest.mark.parametrize("key", ["format", "domain", "convention", "bias_rule", "keys",
                                     "ymax", "inputs_neurons", "layers"])
    def test_missing_top_level_key(self, netdir, key):
        spec = edit_spec(netdir, lambda d: d.pop(key))
        err = fails(lambda _: read_network(netdir), spec, match="missing key")
        assert repr(key) in str(err)

    @pytest.mark.parametrize("key", ["weights", "bias", "beta", "neurons"])
    def test_missing_layer_key(self, netdir, key):
        spec = edit_spec(netdir, lambda d: d["layers"][0].pop(key))
        fails(lambda _: read_network(netdir), spec, match=f"missing key 'layers\\[0\\].{key}'")

    @pytest.mark.parametrize("change,match", [
        (lambda d: d.update(layers={}), "'layers': must be a list"),
        (lambda d: d.update(layers=[]), "at least one layer"),
        (lambda d: d.update(layers=[3]), "'layers\\[0\\]': must be an object"),
        (lambda d: d.update(ymax=3.5), "'ymax': must be an exact number"),
        (lambda d: d.update(ymax="abc"), "'ymax': not an exact number"),
        (lambda d: d.update(ymax="inf"), "'ymax': not an exact number"),
        (lambda d: d.update(ymax=True), "'ymax': must be"),
        (lambda d: d["layers"][0].update(beta="nan"), "'layers\\[0\\].beta'"),
        (lambda d: d["layers"][0].update(beta=[1]), "'layers\\[0\\].beta'"),
        (lambda d: d.update(domain="QQQ"), "'domain'"),
        (lambda d: d.update(domain=7), "'domain': must be str"),
        (lambda d: d.update(convention="diagonal"), "'convention'"),
        (lambda d: d.update(bias_rule="some"), "'bias_rule'"),
        (lambda d: d.update(keys="xml"), "'keys'"),
        (lambda d: d.update(format="other/1"), "format is 'other/1'"),
        (lambda d: d.update(inputs_neurons="1a"), "'inputs_neurons'"),
        (lambda d: d.update(inputs_neurons=["1a", "1a"]), "repeated neuron"),
        (lambda d: d.update(inputs_neurons=[1]), "'inputs_neurons\\[0\\]'"),
        (lambda d: d["layers"][0].update(weights="../W0.tsv"), "must name a file"),
        (lambda d: d["layers"][0].update(bias="/etc/passwd"), "must name a file"),
        (lambda d: d.update(meta=[1]), "'meta'"),
        (lambda d: d.update(keys="json"), "not a JSON key"),
    ])
    def test_wrong_types_and_values_name_the_key(self, netdir, change, match):
        spec = edit_spec(netdir, change)
        fails(lambda _: read_network(netdir), spec, match=match)

    def test_network_json_not_a_json_object(self, netdir):
        (netdir / "network.json").write_text("[1, 2]")
        fails(lambda _: read_network(netdir), netdir / "network.json", match="JSON object")

    def test_network_json_syntax_error_names_the_line(self, netdir):
        (netdir / "network.json").write_text('{\n "format": \n}')
        fails(lambda _: read_network(netdir), netdir / "network.json", 3, "not JSON")

    def test_network_json_repeated_key_and_nan(self, netdir):
        spec = netdir / "network.json"
        spec.write_text('{"format": "symdnn-network/1", "format": "x"}')
        fails(lambda _: read_network(netdir), spec, match="repeated key 'format'")
        spec.write_text('{"format": NaN}')
        fails(lambda _: read_network(netdir), spec, match="NaN is not allowed")

    def test_network_json_non_utf8(self, netdir):
        spec = netdir / "network.json"
        spec.write_bytes(spec.read_bytes().replace(b'"meta"', b'"m\xffeta"'))
        fails(lambda _: read_network(netdir), spec, match="not UTF-8")

    def test_missing_network_json_and_data_file(self, netdir):
        (netdir / "W0.tsv").unlink()
        fails(lambda _: read_network(netdir), netdir / "W0.tsv", match="cannot read")
        (netdir / "network.json").unlink()
        fails(lambda _: read_network(netdir), netdir / "network.json", match="cannot read")

    def test_bias_for_an_undeclared_neuron_is_an_error(self, netdir):
        with open(netdir / "b0.tsv", "a") as fh:
            fh.write("zz\t-1\n")
        fails(lambda _: read_network(netdir), netdir / "b0.tsv", 3,
              "bias for neuron 'zz', which layer 0 does not declare")

    def test_repeated_bias_names_both_lines(self, netdir):
        with open(netdir / "b0.tsv", "a") as fh:
            fh.write("ad\t-1\n")
        fails(lambda _: read_network(netdir), netdir / "b0.tsv", 3,
              "repeated bias for neuron 'ad', first on line 1")

    def test_weight_for_an_undeclared_neuron_is_an_error(self, netdir):
        with open(netdir / "W0.tsv", "a") as fh:
            fh.write("ad\tzz\t1\n")
        fails(lambda _: read_network(netdir), netdir / "W0.tsv", 5, "column key 'zz'")

    def test_repeated_weight_names_both_lines(self, netdir):
        with open(netdir / "W0.tsv", "a") as fh:
            fh.write("ad\t1a\t2\n")
        fails(lambda _: read_network(netdir), netdir / "W0.tsv", 5,
              r"repeated entry \('ad', '1a'\), first on line 1")

    def test_input_for_an_unknown_feature_is_an_error(self, netdir):
        with open(netdir / "inputs.tsv", "a") as fh:
            fh.write("9z\tad\t1\n")
        fails(lambda _: read_network(netdir), netdir / "inputs.tsv", 5, "row key '9z'")

    @pytest.mark.parametrize("value", ["inf", "nan", "1e999999999", "abc", "1/0", "0x1"])
    def test_bad_weight_value_names_the_line(self, netdir, value):
        text = (netdir / "W0.tsv").read_text().splitlines()
        text[1] = text[1].rsplit("\t", 1)[0] + "\t" + value
        (netdir / "W0.tsv").write_text("\n".join(text) + "\n")
        fails(lambda _: read_network(netdir), netdir / "W0.tsv", 2, "bad value")

    def test_wrong_field_counts(self, netdir):
        (netdir / "b0.tsv").write_text("ad\t-3/2\textra\n")
        fails(lambda _: read_network(netdir), netdir / "b0.tsv", 1, "neuron<TAB>value")
        (netdir / "b0.tsv").write_text("ad\t-3/2\n")
        (netdir / "W0.tsv").write_text("ad\t1a\n")
        fails(lambda _: read_network(netdir), netdir / "W0.tsv", 1, "expected 3")

    def test_non_utf8_data_file(self, netdir):
        (netdir / "W0.tsv").write_bytes(b"ad\t1a\t1\nbe\t1\xc3b\t1\n")
        fails(lambda _: read_network(netdir), netdir / "W0.tsv", 2, "not UTF-8")

    def test_symbolic_values_are_not_evaluated_as_python(self, tmp_path):
        c = selective(["ad", "be"], "single", ["t"], domain="SYM")
        d = write_network(tmp_path / "net", c.net, inputs=c.inputs)
        net, _ = read_network(d)
        assert net.layers[0].bias == c.net.layers[0].bias
        for evil in ("__import__('os').getcwd()", "eval(chr(49))", "x.__class__", "open(t)"):
            (d / "b0.tsv").write_text(f"ad\t{evil}\n")
            fails(lambda _: read_network(d), d / "b0.tsv", 1, "bad value")

    def test_json_keys_folder_round_trip(self, tmp_path):
        W = AssocArray.from_triples([("o", 1)], [("i", 2)], ["1/3"], domain="QQ")
        from symdnn.network import SparseDNN

        net = SparseDNN.from_layers([W], [{("o", 1): "-1/2"}])
        d = write_network(tmp_path / "net", net)
        back, _ = read_network(d)
        assert back.layers[0].W.isequal(W) and back.layers[0].bias == net.layers[0].bias
        text = (d / "W0.tsv").read_text().replace('["i",2]', '{"i":2}')
        (d / "W0.tsv").write_text(text)
        fails(lambda _: read_network(d), d / "W0.tsv", 1, "bad key")

    def test_folder_copy_is_independent(self, netdir, tmp_path):
        copy = tmp_path / "copy"
        shutil.copytree(netdir, copy)
        (copy / "b0.tsv").write_text("ad\t-inf\n")
        fails(lambda _: read_network(copy), copy / "b0.tsv", 1, "not finite")
        read_network(netdir)


# ------------------------------------------------------------------ TSV triples
class TestReadTSV:
    def test_non_utf8(self, tmp_path):
        p = write(tmp_path, "a.tsv", b"a\tb\t1\n\xff\tb\t1\n")
        fails(AssocArray.read_tsv, p, 2, "not UTF-8")

    def test_truncated_gzip(self, tmp_path):
        p = tmp_path / "a.tsv.gz"
        p.write_bytes(gzip.compress(b"a\tb\t1\n" * 100)[:25])
        fails(AssocArray.read_tsv, p, match="gzip")

    def test_repeated_entry_names_both_lines(self, tmp_path):
        p = write(tmp_path, "a.tsv", "a\tb\t1\n# c\nc\td\t2\na\tb\t3\n")
        fails(AssocArray.read_tsv, p, 4, r"repeated entry \('a', 'b'\), first on line 1")

    def test_repeats_follow_the_dup_policy_when_asked(self, tmp_path):
        p = write(tmp_path, "a.tsv", "a\tb\t1\na\tb\t3\n")
        assert AssocArray.read_tsv(p, dup="add").get("a", "b") == 4

    @pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e999999999", "1_0", ""])
    def test_bad_values(self, tmp_path, value):
        p = write(tmp_path, "a.tsv", f"a\tb\t1\nc\td\t{value}\n")
        fails(AssocArray.read_tsv, p, 2, "bad value")

    def test_four_fields(self, tmp_path):
        p = write(tmp_path, "a.tsv", "a\tb\t1\t2\n")
        fails(AssocArray.read_tsv, p, 1, "expected 3 tab-separated fields, found 4")

    def test_float_domain_overflow(self, tmp_path):
        p = write(tmp_path, "a.tsv", "a\tb\t1e400\n")
        fails(lambda q: AssocArray.read_tsv(q, domain="fp64"), p, 1, "beyond the range")

    def test_mixed_key_types_name_the_file(self, tmp_path):
        p = write(tmp_path, "a.tsv", "1\tb\t1\nx\tb\t1\n")
        with pytest.raises(SymdnnError):
            AssocArray.read_tsv(p, key_type=lambda s: int(s) if s.isdigit() else s)

    def test_key_separator_line_endings(self, tmp_path):
        p = write(tmp_path, "a.tsv", "a\x1cb\tc\t1/2\r\n")
        A = AssocArray.read_tsv(p)
        assert str(A.get("a\x1cb", "c")) == "1/2"
