"""``symdnn.data`` and ``symdnn data``: fetching against a local HTTP server on 127.0.0.1
started by the test (never the internet), copying with ``--from``, and the registry's checks.

Expected digests come from :mod:`hashlib` on the bytes the test made, and the git blob id from
``git hash-object`` itself: never from symdnn's own checking code.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import shutil
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest

from symdnn.cli import main
from symdnn.data import (
    DATASETS,
    DataFile,
    Dataset,
    data_root,
    dataset_path,
    fetch,
    is_fetched,
    verify_file,
)
from symdnn.errors import DataError

TESTS_DATA = Path(__file__).resolve().parent / "data"


# ------------------------------------------------------------------ a local server

class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files[path] = (bytes, behaviour)``; behaviours: ``ok`` (honours
    ``Range``), ``truncate`` (promises every byte, sends half, hangs up), ``404``."""

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Range")))
        self.server.encodings.append(self.headers.get("Accept-Encoding"))
        body, how = self.server.files.get(self.path, (b"", "404"))
        if how == "404":
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and how == "ok":
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if how == "truncate":
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body[start:])


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.files, srv.requests, srv.encodings = {}, [], []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _sha(b: bytes) -> tuple[str, str]:
    return ("sha256", hashlib.sha256(b).hexdigest())


def _register(monkeypatch, name: str, folder: str, *files: DataFile) -> Dataset:
    ds = Dataset(name, folder, "a test set", "this test", "none", tuple(files))
    monkeypatch.setitem(DATASETS, name, ds)
    return ds


def _row(name, path, url, body=None, *, checks=None, size="auto", lines=None, kind="file"):
    if checks is None:
        checks = (_sha(body),) if body is not None else ()
    if size == "auto":
        size = len(body) if body is not None else None
    return DataFile(name, path, url, size, tuple(checks), lines, kind)


def _leftovers(root: Path) -> list[str]:
    """Every file under root but the .partial folder."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and ".partial" not in p.parts)


BODY = bytes(range(256)) * 400  # 102,400 bytes


# ------------------------------------------------------------------ downloads

def test_good_file_is_downloaded_then_present(server, monkeypatch, tmp_path):
    server.files["/a/one.bin"] = (BODY, "ok")
    _register(monkeypatch, "t-good", "t", _row("t-good", "t/one.bin", server.url + "/a/one.bin",
                                               BODY))
    seen = []
    r = fetch(["t-good"], to=tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert r.files == [("t/one.bin", "downloaded")]
    assert (tmp_path / "t" / "one.bin").read_bytes() == BODY
    assert seen[-1] == (len(BODY), len(BODY))
    assert _leftovers(tmp_path) == ["t/one.bin"] and not (tmp_path / ".partial").exists()
    r = fetch(["t-good"], to=tmp_path)
    assert r.files == [("t/one.bin", "present")] and len(server.requests) == 1
    assert server.encodings == ["identity"]  # a .gz must not be gzipped again on the way


def test_wrong_checksum_is_refused_and_nothing_is_kept(server, monkeypatch, tmp_path):
    server.files["/bad.bin"] = (BODY[:-1] + b"\x00", "ok")  # same size, last byte differs
    _register(monkeypatch, "t-sum", "t", _row("t-sum", "t/bad.bin", server.url + "/bad.bin",
                                              BODY))
    with pytest.raises(DataError, match=r"bad\.bin.*sha256 is .*registry says") as e:
        fetch(["t-sum"], to=tmp_path)
    assert e.value.url == server.url + "/bad.bin"
    assert _leftovers(tmp_path) == []
    assert not any((tmp_path / ".partial").rglob("*.part"))


def test_a_wrong_md5_is_refused(server, monkeypatch, tmp_path):
    server.files["/m.bin"] = (BODY, "ok")
    wrong = hashlib.md5(BODY + b"x").hexdigest()
    _register(monkeypatch, "t-md5", "t", _row("t-md5", "t/m.bin", server.url + "/m.bin", BODY,
                                              checks=(("md5", wrong),)))
    with pytest.raises(DataError, match=r"t/m\.bin: md5 is \w+, the registry says " + wrong):
        fetch(["t-md5"], to=tmp_path)
    assert _leftovers(tmp_path) == []


def test_truncated_transfer_fails_then_resumes_from_where_it_stopped(server, monkeypatch,
                                                                     tmp_path):
    big = BODY * 40  # 4 MB: some chunks arrive before the server hangs up
    server.files["/big.bin"] = (big, "truncate")
    _register(monkeypatch, "t-cut", "t", _row("t-cut", "t/big.bin", server.url + "/big.bin",
                                              big))
    with pytest.raises(DataError, match=r"cannot download .*big\.bin: the connection broke "
                                        r"after \d+ bytes \(fetch again to resume\)"):
        fetch(["t-cut"], to=tmp_path)
    assert _leftovers(tmp_path) == []  # nothing at the file's place
    kept = (tmp_path / ".partial" / "t" / "big.bin.part").read_bytes()
    assert 0 < len(kept) <= len(big) // 2 and kept == big[:len(kept)]
    server.files["/big.bin"] = (big, "ok")
    assert fetch(["t-cut"], to=tmp_path).files == [("t/big.bin", "downloaded")]
    assert server.requests[-1] == ("/big.bin", f"bytes={len(kept)}-")
    assert (tmp_path / "t" / "big.bin").read_bytes() == big
    assert not (tmp_path / ".partial").exists()


def test_a_server_that_ignores_range_starts_again(server, monkeypatch, tmp_path):
    server.files["/r.bin"] = (BODY, "truncate")
    _register(monkeypatch, "t-rng", "t", _row("t-rng", "t/r.bin", server.url + "/r.bin", BODY))
    with pytest.raises(DataError):
        fetch(["t-rng"], to=tmp_path)
    server.files["/r.bin"] = (BODY, "norange")  # answers 200 with the whole file
    fetch(["t-rng"], to=tmp_path)
    assert (tmp_path / "t" / "r.bin").read_bytes() == BODY


def test_404_names_the_url(server, monkeypatch, tmp_path, capsys):
    _register(monkeypatch, "t-404", "t", _row("t-404", "t/x.bin", server.url + "/x.bin", BODY))
    with pytest.raises(DataError, match=r"cannot download http://127\.0\.0\.1:\d+/x\.bin: "
                                        r"HTTP 404"):
        fetch(["t-404"], to=tmp_path)
    assert _leftovers(tmp_path) == [] and not (tmp_path / "t").exists()
    assert main(["data", "fetch", "t-404", "--to", str(tmp_path), "--quiet"]) == 2
    assert "--from" not in capsys.readouterr().err  # the network is there: no offline advice


def test_a_server_sending_another_size_than_the_registry_is_refused(server, monkeypatch,
                                                                    tmp_path):
    server.files["/s.bin"] = (BODY + b"more", "ok")
    _register(monkeypatch, "t-size", "t", _row("t-size", "t/s.bin", server.url + "/s.bin",
                                               BODY))
    with pytest.raises(DataError, match=r"the server sends 102404 bytes, the registry says "
                                        r"102400"):
        fetch(["t-size"], to=tmp_path)
    assert _leftovers(tmp_path) == []


def test_interrupted_download_leaves_nothing_in_place(server, monkeypatch, tmp_path):
    server.files["/i.bin"] = (BODY * 40, "ok")  # several chunks
    _register(monkeypatch, "t-int", "t", _row("t-int", "t/i.bin", server.url + "/i.bin",
                                              BODY * 40))

    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch(["t-int"], to=tmp_path, progress=interrupt)
    assert _leftovers(tmp_path) == []
    fetch(["t-int"], to=tmp_path)  # and the next fetch completes it
    assert (tmp_path / "t" / "i.bin").read_bytes() == BODY * 40


def test_a_file_in_place_that_fails_its_checks_is_never_replaced(server, monkeypatch,
                                                                 tmp_path):
    server.files["/k.bin"] = (BODY, "ok")
    _register(monkeypatch, "t-keep", "t", _row("t-keep", "t/k.bin", server.url + "/k.bin",
                                               BODY))
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "k.bin").write_bytes(b"the user's own file")
    with pytest.raises(DataError, match=r"k\.bin: 19 bytes, the registry says 102400"):
        fetch(["t-keep"], to=tmp_path)
    assert (tmp_path / "t" / "k.bin").read_bytes() == b"the user's own file"
    assert server.requests == []


def test_no_network_is_one_line_naming_the_url_and_from(monkeypatch, tmp_path, capsys):
    # a port nothing listens on: the connection is refused, as on a machine with no network
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    url = f"http://127.0.0.1:{port}/n.bin"
    _register(monkeypatch, "t-off", "t", _row("t-off", "t/n.bin", url, BODY))
    assert main(["data", "fetch", "t-off", "--to", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert url in err and "symdnn data fetch t-off --from DIR" in err and "Traceback" not in err
    with pytest.raises(DataError) as e:  # the API speaks the API's words
        fetch(["t-off"], to=tmp_path)
    assert "--from" not in str(e.value)


# ------------------------------------------------------------------ --from DIR

def test_from_a_folder_finds_checks_and_copies(monkeypatch, tmp_path):
    src = tmp_path / "mirror"
    (src / "deep" / "er").mkdir(parents=True)
    (src / "wrong").mkdir()
    (src / "wrong" / "f.bin").write_bytes(b"not it")
    (src / "deep" / "er" / "f.bin").write_bytes(BODY)
    _register(monkeypatch, "t-from", "t", _row("t-from", "t/f.bin", "http://unused/f.bin",
                                               BODY))
    root = tmp_path / "root"
    r = fetch(["t-from"], to=root, source=src)
    assert r.files == [("t/f.bin", "copied")]
    assert (root / "t" / "f.bin").read_bytes() == BODY
    assert (src / "wrong" / "f.bin").read_bytes() == b"not it"  # the source is untouched


def test_from_a_folder_without_a_matching_file_says_why(monkeypatch, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f.bin").write_bytes(b"other bytes")
    _register(monkeypatch, "t-none", "t", _row("t-none", "t/f.bin", "http://unused/f.bin",
                                               BODY))
    with pytest.raises(DataError, match=r"no file that matches .*t/f\.bin.*11 bytes"):
        fetch(["t-none"], to=tmp_path / "root", source=tmp_path / "src")
    assert not (tmp_path / "root" / "t").exists()
    assert main(["data", "fetch", "t-none", "--to", str(tmp_path / "root"), "--from",
                 str(tmp_path / "nowhere"), "--quiet"]) == 2


def test_cli_fetch_from_prints_the_folder(monkeypatch, tmp_path, capsys):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "g.bin").write_bytes(BODY)
    _register(monkeypatch, "t-cli", "t/sub", _row("t-cli", "t/sub/g.bin", "http://x/g.bin",
                                                  BODY))
    assert main(["data", "fetch", "t-cli", "--to", str(tmp_path / "r"), "--from",
                 str(tmp_path / "src")]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(tmp_path / "r" / "t" / "sub")
    assert "fetch t-cli: 1 file into" in err and "1 copied" in err


# ------------------------------------------------------------------ format and content checks

def _gz(data: bytes, mtime: int) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=mtime) as fh:
        fh.write(data)
    return buf.getvalue()


def test_gunzipped_content_decides_not_the_archive_bytes(tmp_path):
    idx = b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + b"\x01\x02\x03"
    f = DataFile("x", "l.gz", "", None, (("gunzip-sha256", hashlib.sha256(idx).hexdigest()),),
                 None, "idx")
    for mtime in (0, 1616446958):  # two mirrors, two gzip headers, one content
        p = tmp_path / f"l{mtime}.gz"
        p.write_bytes(_gz(idx, mtime))
        verify_file(f, p)
    p.write_bytes(_gz(idx[:-1] + b"\x04", 0))
    with pytest.raises(DataError, match="gunzip-sha256 is"):
        verify_file(f, p)
    p.write_bytes(_gz(b"\x00\x00\x0d\x01rest", 0))  # IDX of floats: not MNIST's bytes
    with pytest.raises(DataError, match="not an IDX file"):
        verify_file(DataFile("x", "l.gz", "", None, (), None, "idx"), p)
    p.write_bytes(_gz(idx, 0)[:-6])  # a gzip stream cut short
    with pytest.raises(DataError, match="not a complete gzip"):
        verify_file(f, p)


def test_git_blob_id_against_git_itself(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    text = b"1\t5\t1\n1\t9\t1\n2\t5\t1\n"
    (tmp_path / "plain.tsv").write_bytes(text)
    blob = subprocess.run(["git", "hash-object", str(tmp_path / "plain.tsv")],
                          capture_output=True, text=True, check=True).stdout.strip()
    p = tmp_path / "sparse-images-4.tsv.gz"
    p.write_bytes(_gz(text, 0))
    f = DataFile("x", p.name, "", None, (("gunzip-gitblob", blob),), 3, "gc-images")
    verify_file(f, p)
    with pytest.raises(DataError, match="3 lines, the registry says 4"):
        verify_file(DataFile("x", p.name, "", None, (("gunzip-gitblob", blob),), 4,
                             "gc-images"), p)
    p.write_bytes(_gz(text.replace(b"9", b"8"), 0))
    with pytest.raises(DataError, match="gunzip-gitblob is"):
        verify_file(f, p)


@pytest.mark.parametrize("text, why", [
    (b"5\n3\n", "line 2: not an image number above 5"),
    (b"5\n5\n", "line 2: not an image number above 5"),
    (b"0\n", "line 1: not an image number above 0"),
    (b"60001\n", "line 1"),
    (b"7\nseven\n", "line 2"),
    (b"7\n8", "the last line does not end"),
])
def test_truth_files_must_be_ascending_image_numbers(tmp_path, text, why):
    p = tmp_path / "t.tsv"
    p.write_bytes(text)
    with pytest.raises(DataError, match=why):
        verify_file(DataFile("x", "t.tsv", "", None, (), None, "gc-truth"), p)


def test_an_empty_truth_file_is_refused_and_a_line_without_end_is_not_read_whole(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_bytes(b"")
    with pytest.raises(DataError, match="t.tsv: no lines"):
        verify_file(DataFile("x", "t.tsv", "", None, (), None, "gc-truth"), p)
    p = tmp_path / "i.tsv.gz"
    p.write_bytes(_gz(b"1" * (1 << 24), 0))  # 16 MB without a line end, 16 kB of gzip
    with pytest.raises(DataError, match="line 1 is longer than 65536 bytes"):
        verify_file(DataFile("x", "i.tsv.gz", "", None, (), None, "gc-images"), p)


def test_image_lines_must_be_triples(tmp_path):
    p = tmp_path / "i.tsv.gz"
    p.write_bytes(_gz(b"1\t5\t1\n1 5 1\n", 0))
    with pytest.raises(DataError, match=r"line 2: not row<TAB>col<TAB>value"):
        verify_file(DataFile("x", "i.tsv.gz", "", None, (), None, "gc-images"), p)


def _network_tar(members: dict[str, bytes]) -> bytes:
    """A tar.gz of these files; a name ending in / is a folder."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name.rstrip("/"))
            if name.endswith("/"):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                continue
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _gc_set(monkeypatch, server, tar: bytes, truth: bytes = b"1\n2\n") -> Dataset:
    server.files["/dnn/neuron1024.tar.gz"] = (tar, "ok")
    server.files["/mnist/sparse-images-1024.tsv.gz"] = (_gz(b"1\t1\t1\n2\t3\t1\n", 0), "ok")
    server.files["/dnn/neuron1024-l120-categories.tsv"] = (truth, "ok")
    u = server.url
    return _register(
        monkeypatch, "t-gc", "graphchallenge",
        _row("t-gc", "graphchallenge/DNN/neuron1024.tar.gz", u + "/dnn/neuron1024.tar.gz",
             checks=(("md5", hashlib.md5(tar).hexdigest()),), size=None, kind="gc-network"),
        _row("t-gc", "graphchallenge/MNIST/sparse-images-1024.tsv.gz",
             u + "/mnist/sparse-images-1024.tsv.gz", lines=2, kind="gc-images"),
        _row("t-gc", "graphchallenge/DNN/neuron1024-l120-categories.tsv",
             u + "/dnn/neuron1024-l120-categories.tsv", lines=2, kind="gc-truth"))


LAYERS = {f"neuron1024/n1024-l{l}.tsv": f"{l}\t{l}\t0.0625\n".encode()
          for l in range(1, 1921)}


def test_a_network_archive_is_unpacked_where_the_commands_look(server, monkeypatch, tmp_path):
    from symdnn.io.graphchallenge import find_challenge_files

    _gc_set(monkeypatch, server, _network_tar({"neuron1024/": b"", **LAYERS}))
    fetch(["t-gc"], to=tmp_path)
    net = tmp_path / "graphchallenge" / "DNN" / "neuron1024"
    assert (net / "n1024-l1920.tsv").read_bytes() == b"1920\t1920\t0.0625\n"
    assert len(list(net.glob("*.tsv"))) == 1920
    assert not (tmp_path / "graphchallenge" / "DNN" / "neuron1024.tar.gz").exists()
    assert all(is_fetched(f, tmp_path) for f in DATASETS["t-gc"].files)
    files = find_challenge_files(dataset_path("t-gc", tmp_path), 1024, 120)
    assert files.layout == "official" and files.layers[119].name == "n1024-l120.tsv"
    assert files.images.name == "sparse-images-1024.tsv.gz"
    assert files.truth.name == "neuron1024-l120-categories.tsv"
    assert fetch(["t-gc"], to=tmp_path).files[0][1] == "present"


@pytest.mark.parametrize("extra, why", [
    ({"../evil.tsv": b"x"}, "unexpected member '../evil.tsv'"),
    ({"neuron1024/n1024-l1921.tsv": b"x"}, "unexpected member"),
    ({"neuron4096/n4096-l1.tsv": b"x"}, "unexpected member"),
    ({}, None),  # layers missing: below
])
def test_a_network_archive_with_anything_else_is_refused(server, monkeypatch, tmp_path, extra,
                                                         why):
    members = {**LAYERS, **extra} if extra else dict(list(LAYERS.items())[:-1])
    _gc_set(monkeypatch, server, _network_tar(members))
    with pytest.raises(DataError, match=why or "1919 layers, not 1920"):
        fetch(["t-gc"], to=tmp_path)
    assert _leftovers(tmp_path) == []
    assert not (tmp_path / "evil.tsv").exists() and not (tmp_path / "graphchallenge" / "DNN" /
                                                         "neuron1024").exists()


def test_an_archive_put_in_place_by_hand_is_checked_unpacked_and_kept(server, monkeypatch,
                                                                      tmp_path):
    tar = _network_tar(LAYERS)
    _gc_set(monkeypatch, server, tar)
    dnn = tmp_path / "graphchallenge" / "DNN"
    dnn.mkdir(parents=True)
    (dnn / "neuron1024.tar.gz").write_bytes(b"my notes")
    with pytest.raises(DataError, match=r"neuron1024\.tar\.gz: 8 bytes|md5 is"):
        fetch(["t-gc"], to=tmp_path)
    assert (dnn / "neuron1024.tar.gz").read_bytes() == b"my notes"
    assert not (dnn / "neuron1024").exists()
    assert [r for r in server.requests if "tar" in r[0]] == []
    (dnn / "neuron1024.tar.gz").write_bytes(tar)
    fetch(["t-gc"], to=tmp_path)
    assert (dnn / "neuron1024.tar.gz").read_bytes() == tar  # not ours to delete
    assert len(list((dnn / "neuron1024").glob("*.tsv"))) == 1920


def test_an_unpacked_network_with_a_layer_missing_is_not_present(server, monkeypatch,
                                                                 tmp_path):
    _gc_set(monkeypatch, server, _network_tar(LAYERS))
    fetch(["t-gc"], to=tmp_path)
    (tmp_path / "graphchallenge" / "DNN" / "neuron1024" / "n1024-l7.tsv").unlink()
    with pytest.raises(DataError, match="layer files are missing"):
        fetch(["t-gc"], to=tmp_path)


def test_an_unpacked_folder_symdnn_did_not_write_is_left_alone(server, monkeypatch, tmp_path):
    _gc_set(monkeypatch, server, _network_tar(LAYERS))
    net = tmp_path / "graphchallenge" / "DNN" / "neuron1024"
    net.mkdir(parents=True)
    (net / "mine.txt").write_text("keep")
    with pytest.raises(DataError, match="symdnn did not unpack it"):
        fetch(["t-gc"], to=tmp_path)
    assert (net / "mine.txt").read_text() == "keep" and server.requests == []


# ------------------------------------------------------------------ the real registry

def test_the_registry_rows_are_well_formed():
    paths = set()
    for name, ds in DATASETS.items():
        assert ds.files, name
        for f in ds.files:
            assert f.url.startswith("https://"), f
            assert f.path.startswith(ds.folder.split("/")[0] + "/"), f
            assert f.path not in paths, f
            paths.add(f.path)
            for kind, digest in f.checks:
                assert len(digest) == {"sha256": 64, "md5": 32, "gunzip-sha256": 64,
                                       "gunzip-gitblob": 40}[kind], f
                int(digest, 16)
            assert f.checks or f.kind != "file", f"{f.path}: nothing would be checked"
    assert len(DATASETS["vnncomp-acasxu"].files) == 56  # 45 networks, 10 properties, the csv
    assert sum(f.name.endswith(".onnx.gz") for f in DATASETS["vnncomp-acasxu"].files) == 45


def test_shipped_fixtures_match_the_registry_where_they_are_the_same_file():
    """The registry's sha256 against hashlib on the fixtures copied from the same source."""
    same = 0
    for ds in DATASETS.values():
        for f in ds.files:
            p = TESTS_DATA / f.path
            sha = dict(f.checks).get("sha256")
            if p.is_file() and sha:
                assert hashlib.sha256(p.read_bytes()).hexdigest() == sha, f.path
                same += 1
    if same == 0:
        pytest.skip("no fixture file is also a registry file")


def test_data_root_and_path(monkeypatch, tmp_path):
    monkeypatch.setenv("SYMDNN_DATA", str(tmp_path))
    assert data_root() == tmp_path
    assert dataset_path("vnncomp-results") == tmp_path / "vnncomp" / "results"
    monkeypatch.delenv("SYMDNN_DATA")
    assert data_root().name == "symdnn"  # pooch's OS cache folder for symdnn


def test_cli_list_path_and_unknown_names(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SYMDNN_DATA", str(tmp_path))
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in DATASETS:
        assert name in out
    assert main(["data", "list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["root"] == str(tmp_path)
    row = {r["name"]: r for r in doc["datasets"]}["vnncomp-test"]
    assert row["status"] == "no" and row["files"] == 11 and row["size"] == 115895
    assert main(["data", "path", "graphchallenge-1024"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "graphchallenge")
    assert main(["data", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path)
    assert main(["data", "fetch", "no-such-set"]) == 2
    assert "no data set 'no-such-set'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_the_witness_command_reads_what_fetch_writes(monkeypatch, tmp_path, capsys):
    """The real registry rows of the VNN-COMP files shipped in tests/data, fetched with --from
    (so every file passes the registry's sha256), then refereed from the data root."""
    rows = [f for name in ("vnncomp-acasxu", "vnncomp-results", "vnncomp-test")
            for f in DATASETS[name].files if (TESTS_DATA / f.path).is_file()]
    if not any(f.path.startswith("vnncomp/results/") for f in rows):
        pytest.skip("tests/data holds no VNN-COMP counterexample")
    _register(monkeypatch, "t-vnn", "vnncomp", *rows)
    assert main(["data", "fetch", "t-vnn", "--to", str(tmp_path), "--from", str(TESTS_DATA),
                 "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "vnncomp")
    assert main(["witness", "--results", str(tmp_path / "vnncomp" / "results"),
                 "--benchmarks", str(tmp_path / "vnncomp" / "benchmarks"), "--no-onnxruntime",
                 "--json", str(tmp_path / "w.json"), "--quiet"]) == 0
    doc = json.loads((tmp_path / "w.json").read_text())
    assert (doc["counterexamples"], doc["genuine"], doc["errors"]) == (3, 3, 0)
