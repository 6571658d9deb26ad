"""Real implementations audited against exact arithmetic: SuiteSparse:GraphBLAS
through python-graphblas (fp64 and fp32, the reference rule in GraphBLAS operations), the scipy
reference rule in its own index order (fp64 and fp32), torch.sparse when torch is installed,
all on the Graph Challenge (1024 neurons, 120 layers, every input of the folder), and
onnxruntime on an ONNX export of a small network (RadiX-Net-like, 64 neurons, 12 layers, the
bias added everywhere, as ONNX's Add does).

Each foreign run receives back its own previous output, untouched. Prints, per run, what it
turned around and how long it took, and the comparison's share of the audit.

Run: python benchmarks/audit_foreign.py [--layers 120] [--images N]
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
from pathlib import Path

import numpy as np
from _timing import data_dir, missing

from symdnn.audit import Run, audit_graph_challenge, audit_network
from symdnn.audit.foreign import graphblas_layer, onnx_network, scipy_layer, write_onnx


def show(rep, title: str) -> None:
    js = rep.to_json()
    s = rep.seconds
    print(f"\n{title}: exact zero pre-activations {sum(js['exact_zero'])} of "
          f"{sum(js['exact_pre'])}; audit {s['total']:.2f} s (exact {s['exact']:.2f} s)")
    for name, r in js["runs"].items():
        t = r["totals"]

        def f(v):
            return "-" if v is None else str(v)

        print(f"  {name:16s} {r['format']:5s} zero->pos {f(t['zero_to_pos']):>5s}  zero->neg "
              f"{f(t['zero_to_neg']):>5s}  ReLU flips {f(t['sign_flip']):>6s}  cap flips "
              f"{f(t['cap_flip']):>5s}  max ulp {t['max_ulp']:>10d}  categories = exact: "
              f"{r['categories_match_exact']}, = truth: {r['categories_match_truth']}  "
              f"({r['seconds']:.2f} s)")
        e = r["first_departure"]
        if e:
            print(f"  {'':16s} first departure: layer {e['layer']}, input {e['input']}, neuron "
                  f"{e['neuron']}: {e['kind']} (exact {e['exact']}, float {e['float']!r})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=120)
    ap.add_argument("--images", type=int, default=None)
    args = ap.parse_args()
    root = data_dir("graphchallenge-1024")
    if not root.is_dir():
        print(missing("graphchallenge-1024", root))
    else:
        runs = [Run.layer_callable(graphblas_layer("fp64"), "fp64", "graphblas-fp64"),
                Run.layer_callable(graphblas_layer("fp32"), "fp32", "graphblas-fp32"),
                Run.layer_callable(scipy_layer(np.float64), "fp64", "scipy-fp64"),
                Run.layer_callable(scipy_layer(np.float32), "fp32", "scipy-fp32")]
        if importlib.util.find_spec("torch") is not None:
            from symdnn.audit.foreign import torch_sparse_layer

            runs.append(Run.layer_callable(torch_sparse_layer("float32"), "fp32",
                                           "torch-sparse-fp32"))
        else:
            print("torch.sparse: skipped (torch is not installed: pip install torch)")
        rep = audit_graph_challenge(str(root), layers=args.layers, images=args.images,
                                    runs=runs)
        show(rep, f"Graph Challenge 1024 x {args.layers}, {rep.network['inputs']} images")
    net, Y0 = small_network()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_onnx(net, str(Path(tmp) / "small.onnx"))
        rep = audit_network(net, Y0, name="small", runs=[
            Run.format("fp32"),
            Run.network_callable(onnx_network(path, every_layer=True), "fp32",
                                 "onnxruntime-fp32")])
    show(rep, "ONNX export of a 64 x 12 network (weights k/10, bias -1/10 on every neuron, cap "
              "32), 256 inputs; onnxruntime returns every layer")


def small_network():
    """A fixed 64-neuron, 12-layer network with weights +-k/10 (not binary fractions: fp32
    rounds them) and 256 binary inputs."""
    from fractions import Fraction

    from symdnn import AssocArray, SparseDNN

    rng = np.random.default_rng(13)
    n, L = 64, 12
    Ws, biases, neurons = [], [], [[f"x{j}" for j in range(n)]]
    for l in range(L):
        outs = [f"L{l + 1}n{i}" for i in range(n)]
        r, c, v = [], [], []
        for i in range(n):
            for j in rng.choice(n, size=8, replace=False):
                r.append(neurons[-1][j])
                c.append(outs[i])
                v.append(Fraction(int(rng.choice([-1, 1, 1, 1])) * int(rng.integers(1, 6)), 10))
        Ws.append(AssocArray.from_triples(r, c, v, domain="QQ"))
        biases.append({o: Fraction(-1, 10) for o in outs})
        neurons.append(outs)
    net = SparseDNN.from_layers(Ws, biases, convention="row", bias_rule="all", ymax=32,
                                domain="QQ", neurons=neurons)
    X = rng.random((256, n)) < 0.3
    b, f = np.nonzero(X)
    Y0 = AssocArray.from_triples([f"s{i}" for i in b], [neurons[0][j] for j in f],
                                 [Fraction(1)] * len(b), domain="QQ")
    return net, Y0


if __name__ == "__main__":
    main()
