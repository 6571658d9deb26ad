"""Make ``tests/data/graphchallenge/``: the first layers of the 1024-neuron Graph Challenge
network, a few of its input images and the truth for them, derived here with plain
``fractions.Fraction`` arithmetic (nothing from symdnn).

    python tests/data/make_graphchallenge_fixture.py SOURCE [OUT]

SOURCE is a Graph Challenge folder in the flat layout of the 1200-image subset
(``neuron1024/n1024-l{l}.tsv.gz``, ``sparse-images-1024_subset.mtx``) or in the official
layout that ``symdnn data fetch graphchallenge-1024`` writes (``DNN/neuron1024/n1024-l{l}.tsv``,
``MNIST/sparse-images-1024.tsv.gz``); OUT defaults to ``tests/data/graphchallenge`` beside this
script. Gzipped layer files are copied byte for byte, plain ones gzipped (without a time
stamp). The images are written in the MatrixMarket pattern format of the subset, entries in
its order (by column, then by row).

The rule (Kepner et al., the Graph Challenge's reference): Z = Y W with images as rows, the
bias -3/10 added to the nonzero entries of Z only, ReLU, values capped at 32; the categories
are the 1-based rows with a nonzero after the last layer.
"""

from __future__ import annotations

import gzip
import shutil
import sys
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

NEURONS = 1024
LAYERS = 12
BIAS = Fraction(-3, 10)
CAP = Fraction(32)
# Images 1-150 (the first 150 of the 60000: they let tests of up to 150 images and 12 layers
# run unchanged on this fixture), then five chosen for the depth at which they die out:
# 463 has a nonzero after 7 layers but not after 8, 214 after 8 but not 9, 1180 after 13 but
# not 14, while 287 and 295 never die out (they are categories of the 120-layer truth).
IMAGES = list(range(1, 151)) + [214, 287, 295, 463, 1180]


def source_file(root: Path, *names: str) -> Path:
    for name in names:
        if (root / name).is_file():
            return root / name
    raise SystemExit(f"{root}: none of {', '.join(names)}")


def read_weights(path: Path) -> dict[int, list[tuple[int, Fraction]]]:
    """Row k of W as [(column, value)], 1-based, from ``row<TAB>col<TAB>value`` lines."""
    opener = gzip.open if path.name.endswith(".gz") else open
    rows: dict[int, list[tuple[int, Fraction]]] = defaultdict(list)
    with opener(path, "rt") as fh:
        for line in fh:
            r, c, v = line.split("\t")
            rows[int(r)].append((int(c), Fraction(v.strip())))
    return rows


def read_entries(path: Path) -> list[tuple[int, int]]:
    """The (image, pixel) entries, 1-based, of the subset's MatrixMarket file or of the
    official TSV (whose values are all 1)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt") as fh:
        lines = [line for line in fh if line.strip()]
    if path.name.endswith(".mtx") or path.name.endswith(".mtx.gz"):
        body = [line for line in lines if not line.startswith("%")][1:]  # after the sizes
        return [(int(r), int(c)) for r, c in (line.split() for line in body)]
    out = []
    for line in lines:
        r, c, v = line.split("\t")
        if Fraction(v.strip()) != 1:
            raise SystemExit(f"{path}: an image value other than 1: {line!r}")
        out.append((int(r), int(c)))
    return out


def step(Y: dict[int, Fraction], W: dict[int, list[tuple[int, Fraction]]]) -> dict[int, Fraction]:
    """One layer for one image: y W, the bias on nonzero entries, ReLU, the cap."""
    Z: dict[int, Fraction] = defaultdict(Fraction)
    for k, y in Y.items():
        for j, w in W.get(k, ()):
            Z[j] += y * w
    out = {}
    for j, z in Z.items():
        if z != 0:
            v = min(max(z + BIAS, Fraction(0)), CAP)
            if v != 0:
                out[j] = v
    return out


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print(__doc__, file=sys.stderr)
        return 2
    src = Path(argv[0])
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "graphchallenge"
    (out / "neuron1024").mkdir(parents=True, exist_ok=True)
    weights = []
    for l in range(1, LAYERS + 1):
        name = f"n{NEURONS}-l{l}.tsv"
        p = source_file(src, f"neuron{NEURONS}/{name}.gz", f"DNN/neuron{NEURONS}/{name}.gz",
                        f"neuron{NEURONS}/{name}", f"DNN/neuron{NEURONS}/{name}")
        dest = out / f"neuron{NEURONS}" / f"{name}.gz"
        if p.name.endswith(".gz"):
            shutil.copyfile(p, dest)
        else:
            with open(p, "rb") as fin, open(dest, "wb") as raw, \
                    gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fout:
                shutil.copyfileobj(fin, fout)
        weights.append(read_weights(dest))

    images = source_file(src, f"sparse-images-{NEURONS}_subset.mtx",
                         f"MNIST/sparse-images-{NEURONS}.tsv.gz",
                         f"MNIST/sparse-images-{NEURONS}.tsv")
    new_row = {old: new for new, old in enumerate(IMAGES, 1)}
    kept = sorted(((new_row[r], c) for r, c in read_entries(images) if r in new_row),
                  key=lambda e: (e[1], e[0]))
    with open(out / f"sparse-images-{NEURONS}_subset.mtx", "w", newline="\n") as fh:
        fh.write("%%MatrixMarket matrix coordinate pattern general\n"
                 "%%GraphBLAS type float\n"
                 "% Synthetic Sparse Deep Neural Network, Input images.\n"
                 "% Source: https://graphchallenge.mit.edu/data-sets\n"
                 f"% symdnn's test fixture: images {IMAGES[0]}-150, "
                 f"{', '.join(map(str, IMAGES[150:]))} of the 60000, as rows 1-{len(IMAGES)}.\n"
                 "% Made by tests/data/make_graphchallenge_fixture.py.\n"
                 f"{len(IMAGES)} {NEURONS} {len(kept)}\n")
        fh.writelines(f"{r} {c}\n" for r, c in kept)

    Y: dict[int, dict[int, Fraction]] = defaultdict(dict)
    for r, c in kept:
        Y[r][c] = Fraction(1)
    for W in weights:
        Y = {r: y for r, y in ((r, step(y, W)) for r, y in Y.items()) if y}
    categories = sorted(Y)
    truth = out / f"neuron{NEURONS}-l{LAYERS}-categories_subset.tsv"
    truth.write_text("".join(f"{r}\n" for r in categories))
    print(f"{len(IMAGES)} images, {LAYERS} layers: categories {categories}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
