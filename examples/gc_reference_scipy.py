"""An implementation of the Graph Challenge written *outside* symdnn (NumPy and SciPy only), as
a user's own code would be: it runs the reference rule and writes what it computed in the
run-folder layout that ``symdnn audit --run`` reads.

    python examples/gc_reference_scipy.py ../shared/data/graphchallenge my-run --dtype float32
    symdnn audit graph-challenge ../shared/data/graphchallenge --run mine=my-run:fp32

It writes ``layer-{l}.tsv`` (1-based image, 1-based neuron, the value as a C99 hex float)
after every layer and, with ``--pre``, ``pre-{l}.tsv`` with the pre-activations (the nonzero
entries of Y W plus the bias, before the ReLU). ``--every K`` writes only every K-th layer
and the last. Nothing here imports symdnn.
"""

from __future__ import annotations

import argparse
import gzip
import os
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp


def read_layer(path: Path, n: int, dtype: type) -> sp.csr_matrix:
    text = gzip.open(path, "rt").read() if path.suffix == ".gz" else path.read_text()
    a = np.array(text.split()).reshape(-1, 3)
    rows, cols = a[:, 0].astype(np.int64) - 1, a[:, 1].astype(np.int64) - 1
    vals = np.array([float(v) for v in a[:, 2]], dtype=np.float64).astype(dtype)
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


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
    ap.add_argument("--layers", type=int, default=120)
    ap.add_argument("--images", type=int, default=None)
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--pre", action="store_true", help="also write the pre-activations")
    args = ap.parse_args()
    dtype = np.dtype(args.dtype).type
    n = 1024
    Y = sp.csr_matrix(scipy.io.mmread(args.data / "sparse-images-1024_subset.mtx"),
                      dtype=dtype)
    if args.images:
        Y = Y[:args.images]
    bias = dtype(float("-0.3"))
    os.makedirs(args.out)
    for l in range(1, args.layers + 1):
        W = read_layer(args.data / "neuron1024" / f"n1024-l{l}.tsv.gz", n, dtype)
        Z = Y @ W
        Z.data = (Z.data + bias).astype(dtype)  # the bias on the stored entries only
        keep = l == args.layers or l % args.every == 0
        if args.pre and keep:
            write(args.out / f"pre-{l}.tsv", Z)
        Z.data[Z.data < 0] = 0
        Z.data[Z.data > 32] = 32
        Z.eliminate_zeros()
        Y = Z  # the next layer starts from this layer's output, as computed
        if keep:
            write(args.out / f"layer-{l}.tsv", Y)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
