"""Exact-solution constructions of the paper (§III-V): selective (words), combinatoric
(Kronecker products of feature sets) and images (MNIST). Each returns a
:class:`Construction`: the network, the model problem's inputs and the expected outputs."""

from __future__ import annotations

from symdnn.constructions.base import Construction
from symdnn.constructions.build import build_construction, load_construction, write_construction
from symdnn.constructions.combinatoric import collapse, combinatoric
from symdnn.constructions.images import binarize_mnist, contained_pairs, images, mnist
from symdnn.constructions.selective import SCHEMES, builtin_scheme, parse_scheme, selective

__all__ = ["Construction", "selective", "combinatoric", "collapse", "images", "mnist",
           "binarize_mnist", "contained_pairs", "parse_scheme", "builtin_scheme", "SCHEMES",
           "build_construction", "load_construction", "write_construction"]
