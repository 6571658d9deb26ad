"""The image construction (paper §III, Fig. 3): one category per binary image.

MNIST's 28 x 28 images are trimmed to 26 x 26 (one pixel off every edge) so that each pixel can
be keyed by two letters, row then column (``"aa"`` ... ``"zz"``), and thresholded at one half
of the [0, 1] scale: pixel value ``p`` (0..255) is on when ``p / 255 > 1/2``, that is
``p >= 128``, decided in integers. Each image is a category, keyed ``"00017:7"`` (index and
label), whose features are its on pixels.

The single-layer solution is exact only if no image's pixel set is contained in another's
(with beta <= 1 a category fires on every image containing its pixels). Such images are found
before building and reported, or dropped when asked.
"""

from __future__ import annotations

import os
import string
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.assoc import AssocArray
from symdnn.constructions.base import Construction
from symdnn.errors import ArgumentError, ParseError
from symdnn.io.idx import read_idx
from symdnn.network import SparseDNN

__all__ = ["binarize_mnist", "contained_pairs", "images", "mnist"]

LETTERS = string.ascii_lowercase


def binarize_mnist(raw: np.ndarray) -> np.ndarray:
    """Trim 28 x 28 byte images to 26 x 26 and threshold at one half (``p >= 128``).

    Raises
    ------
    ArgumentError
        If the images are not N x 28 x 28 bytes.

    Examples
    --------
    >>> import numpy as np
    >>> raw = np.zeros((1, 28, 28), dtype=np.uint8)
    >>> raw[0, 1, 1], raw[0, 1, 2] = 128, 127     # on, off: p / 255 > 1/2 means p >= 128
    >>> b = binarize_mnist(raw)
    >>> b.shape, bool(b[0, 0, 0]), bool(b[0, 0, 1])
    ((1, 26, 26), True, False)
    """
    raw = np.asarray(raw)
    if raw.ndim != 3 or raw.shape[1:] != (28, 28):
        raise ArgumentError(f"MNIST images must be N x 28 x 28, not {raw.shape}")
    if raw.dtype != np.uint8:
        raise ArgumentError(f"MNIST images must be bytes (uint8), not {raw.dtype}")
    return raw[:, 1:27, 1:27].astype(np.int64) * 2 > 255


def _pattern(imgs: np.ndarray) -> sp.csr_matrix:
    flat = imgs.reshape(len(imgs), -1).astype(np.int64)
    return sp.csr_matrix(flat)


def contained_pairs(imgs: np.ndarray) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i != j``, where image i's pixels are all on in image j too.

    Identical images give both ``(i, j)`` and ``(j, i)``.

    Examples
    --------
    >>> import numpy as np
    >>> imgs = np.zeros((3, 2, 2), dtype=bool)
    >>> imgs[0, 0, 0] = imgs[1, 0, :] = imgs[2, 1, 1] = True
    >>> contained_pairs(imgs)            # image 0's pixel lies inside image 1
    [(0, 1)]
    """
    P = _pattern(imgs)
    sizes = np.asarray(P.sum(axis=1)).ravel()
    overlap = (P @ P.T).tocoo()
    hit = (overlap.data == sizes[overlap.row]) & (overlap.row != overlap.col)
    pairs = list(zip(overlap.row[hit].tolist(), overlap.col[hit].tolist(), strict=True))
    empty = np.flatnonzero(sizes == 0)
    for i in empty:  # an empty image is contained in every other
        pairs.extend((int(i), j) for j in range(len(imgs)) if j != i)
    return sorted(set(pairs))


def images(imgs: np.ndarray, labels: Sequence[Any] | None = None, *, beta: Any = 1,
           contained: str = "report", start: int = 0, domain: str = "QQ") -> Construction:
    """The single-layer exact solution over binary images (at most 26 x 26).

    Parameters
    ----------
    imgs : array, N x H x W of 0/1 (or bool)
    labels : sequence, optional
        One label per image; category keys become ``"{index:05d}:{label}"``.
    beta : number
    contained : {"report", "drop"}
        What to do with images whose pixel set lies inside another's: keep them and list them
        in ``params["contained"]`` (the verifier then reports them), or drop them (every strict
        subset, and all but the first of identical images).
    start : int
        Index of the first image, for the keys.

    Raises
    ------
    ArgumentError
        For non-binary values, images larger than 26 x 26 or not 2-D, labels of the wrong
        length, or an unknown ``contained`` policy.

    Examples
    --------
    >>> import numpy as np
    >>> imgs = np.zeros((2, 3, 3), dtype=bool)
    >>> imgs[0, 0, :2] = imgs[1, 2, 2] = True
    >>> c = images(imgs, labels=[7, 1])
    >>> c.categories, c.net.layers[0].W.to_dict()["00000:7"]
    (('00000:7', '00001:1'), {'aa': 1, 'ab': 1})
    >>> c.verify().identity
    True
    """
    imgs = np.asarray(imgs)
    if imgs.ndim != 3:
        raise ArgumentError(f"images must be an N x H x W array, not shape {imgs.shape}")
    n, h, w = imgs.shape
    if h > 26 or w > 26 or h == 0 or w == 0:
        raise ArgumentError(f"images must be at most 26 x 26 to key pixels by two letters, not "
                            f"{h} x {w} (trim MNIST with binarize_mnist)")
    if imgs.dtype != bool:
        bad = ~np.isin(imgs, (0, 1))
        if bad.any():
            i = int(np.argwhere(bad)[0][0])
            raise ArgumentError(f"image {start + i} is not binary: values must be 0 or 1")
        imgs = imgs.astype(bool)
    if labels is not None and len(labels) != n:
        raise ArgumentError(f"{n} images but {len(labels)} labels")
    if contained not in ("report", "drop"):
        raise ArgumentError(f"contained must be 'report' or 'drop', not {contained!r}")
    keys = [f"{start + i:05d}" + (f":{labels[i]}" if labels is not None else "")
            for i in range(n)]
    pairs = contained_pairs(imgs)
    dropped: list = []
    keep = np.ones(n, dtype=bool)
    if contained == "drop":
        for i, j in pairs:
            identical = (j, i) in pairs
            if not identical or i > j:
                keep[i] = False
        dropped = [keys[i] for i in np.flatnonzero(~keep)]
    rows, cols = [], []
    for i in np.flatnonzero(keep):
        rr, cc = np.nonzero(imgs[i])
        rows.extend([keys[i]] * len(rr))
        cols.extend(LETTERS[r] + LETTERS[c] for r, c in zip(rr, cc, strict=True))
    W0 = AssocArray.from_triples(rows, cols, 1, domain=domain)
    net = SparseDNN.from_layers([W0], betas=[beta], domain=domain)
    cats = tuple(sorted(keys[i] for i in np.flatnonzero(keep)))
    expected = AssocArray.identity(cats, domain=domain) if str(beta) == "1" else None
    reported = [(keys[i], keys[j]) for i, j in pairs if keep[i] and keep[j]]
    return Construction("images", net, W0.T, expected, cats, W0.col(),
                        {"images": n, "beta": str(beta), "contained": reported,
                         "dropped": dropped})


def mnist(images_path: str | os.PathLike, labels_path: str | os.PathLike | None = None, *,
          count: int | None = None, start: int = 0, **kw: Any) -> Construction:
    """The image construction over MNIST IDX files (gzip or raw), images ``start`` to
    ``start + count``.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> from symdnn.io.idx import write_idx
    >>> d = tempfile.mkdtemp()
    >>> raw = np.zeros((2, 28, 28), dtype=np.uint8)
    >>> raw[0, 5, 5], raw[1, 9, 9] = 255, 200
    >>> write_idx(os.path.join(d, "img.gz"), raw)
    >>> write_idx(os.path.join(d, "lab"), np.array([3, 8], dtype=np.uint8))
    >>> mnist(os.path.join(d, "img.gz"), os.path.join(d, "lab")).categories
    ('00000:3', '00001:8')
    """
    raw = read_idx(images_path)
    if raw.ndim != 3:
        raise ParseError(f"{images_path}: images must be a 3-dimensional IDX array, not "
                         f"shape {raw.shape}")
    if start < 0 or (count is not None and count < 1):
        raise ArgumentError(f"start must be >= 0 and count >= 1, not {start} and {count}")
    if start >= len(raw):
        raise ArgumentError(f"start {start}: {images_path} holds {len(raw)} images")
    stop = len(raw) if count is None else start + count
    if stop > len(raw):
        raise ArgumentError(f"{count} images from {start} asked for, but {images_path} holds "
                            f"{len(raw)}")
    raw = raw[start:stop]
    labels = None
    if labels_path is not None:
        lab = read_idx(labels_path)
        if lab.ndim != 1:
            raise ParseError(f"labels must be one-dimensional, not shape {lab.shape}")
        labels = [int(x) for x in lab[start:stop]]
    return images(binarize_mnist(raw), labels, start=start, **kw)
