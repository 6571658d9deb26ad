"""An implementation of the Graph Challenge written *outside* symdnn (NumPy and SciPy only), as
a user's own code would be: it runs the reference rule and writes what it computed in the
run-folder layout that ``symdnn audit --run`` reads. From the repository root, on the small
Graph Challenge cut shipped with the tests:

    python examples/gc_reference_scipy.py tests/data/graphchallenge run-fp32 --dtype float32
    symdnn audit graph-challenge tests/data/graphchallenge --layers 12 --run mine=run-fp32:fp32

DATA is a Graph Challenge folder: the flat layout of the shipped cut, or the official one that
``symdnn data fetch graphchallenge-1024`` writes (``symdnn data path graphchallenge-1024``
prints where). It writes ``layer-{l}.tsv`` (1-based image, 1-based neuron, the value as a C99
hex float) after every layer and, with ``--pre``, ``pre-{l}.tsv`` with the pre-activations
(the nonzero entries of Y W plus the bias, before the ReLU). ``--every K`` writes only every
K-th layer and the last. OUT must not exist (exit status 2 otherwise). Nothing here imports
symdnn.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp

N = 1024  # the network's width
IMAGES = ("sparse-images-1024_subset.mtx", "sparse-images-1024.mtx", "sparse-images-1024.tsv.gz",
          "sparse-images-1024.tsv", "MNIST/sparse-images-1024.tsv.gz",
          "MNIST/sparse-images-1024.tsv")


def fail(message: str) -> None:
    """One line on stderr and exit status 2 (bad input or usage), as symdnn's commands do."""
    print(f"gc_reference_scipy.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def layer_file(data: Path, l: int) -> Path | None:
    for folder in ("neuron1024", "DNN/neuron1024"):
        for ext in (".tsv.gz", ".tsv"):
            path = data / folder / f"n1024-l{l}{ext}"
            if path.is_file():
                return path
    return None


def read_triples(path: Path) -> np.ndarray:
    text = gzip.open(path, "rt").read() if path.suffix == ".gz" else path.read_text()
    return np.array(text.split()).reshape(-1, 3)


def read_layer(path: Path, n: int, dtype: type) -> sp.csr_matrix:
    a = read_triples(path)
    rows, cols = a[:, 0].astype(np.int64) - 1, a[:, 1].astype(np.int64) - 1
    vals = np.array([float(v) for v in a[:, 2]], dtype=np.float64).astype(dtype)
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def read_images(path: Path, n: int, dtype: type) -> sp.csr_matrix:
    if path.suffix == ".mtx":
        return sp.csr_matrix(scipy.io.mmread(path), dtype=dtype)
    a = read_triples(path)
    rows, cols = a[:, 0].astype(np.int64) - 1, a[:, 1].astype(np.int64) - 1
    vals = np.array([float(v) for v in a[:, 2]], dtype=dtype)
    return sp.csr_matrix((vals, (rows, cols)), shape=(int(rows.max()) + 1, n))


def write(path: Path, M: sp.csr_matrix) -> None:
    C = M.tocoo()
    with open(path, "w", encoding="ascii") as fh:
        for r, c, v in zip(C.row.tolist(), C.col.tolist(), C.data.tolist(), strict=True):
            fh.write(f"{r + 1}\t{c + 1}\t{float(v).hex()}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="the Graph Challenge folder")
    ap.add_argument("out", type=Path, help="a new folder for the outputs")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--layers", type=int, default=None,
                    help="number of layers (default: every layer file in DATA, at most 120)")
    ap.add_argument("--images", type=int, default=None)
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--pre", action="store_true", help="also write the pre-activations")
    args = ap.parse_args()
    if os.path.lexists(args.out):
        fail(f"{args.out} exists; give a new folder")
    images = next((args.data / name for name in IMAGES if (args.data / name).is_file()), None)
    if images is None or layer_file(args.data, 1) is None:
        fail(f"{args.data} is not a Graph Challenge folder of {N} neurons (fetch one with "
             "'symdnn data fetch graphchallenge-1024', or use tests/data/graphchallenge)")
    layers = args.layers
    if layers is None:
        layers = 0
        while layers < 120 and layer_file(args.data, layers + 1) is not None:
            layers += 1
    missing = [l for l in range(1, layers + 1) if layer_file(args.data, l) is None]
    if missing:
        fail(f"{args.data} has no file for layer {missing[0]}")
    dtype = np.dtype(args.dtype).type
    Y = read_images(images, N, dtype)
    if args.images:
        Y = Y[:args.images]
    bias = dtype(float("-0.3"))
    os.makedirs(args.out)
    for l in range(1, layers + 1):
        W = read_layer(layer_file(args.data, l), N, dtype)
        Z = Y @ W
        Z.data = (Z.data + bias).astype(dtype)  # the bias on the stored entries only
        keep = l == layers or l % args.every == 0
        if args.pre and keep:
            write(args.out / f"pre-{l}.tsv", Z)
        Z.data[Z.data < 0] = 0
        Z.data[Z.data > 32] = 32
        Z.eliminate_zeros()
        Y = Z  # the next layer starts from this layer's output, as computed
        if keep:
            write(args.out / f"layer-{l}.tsv", Y)
    print(f"wrote {layers} layers of {Y.shape[0]} images to {args.out}")


if __name__ == "__main__":
    main()
