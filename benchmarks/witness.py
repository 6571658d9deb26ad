"""Exact replay of one counterexample against onnxruntime's float32 replay.

Both start from the files, as a referee runs them:

* exact: import the ONNX file (pure-Python decoder, exact weights), read the VNN-LIB property
  and the counterexample, and replay exactly (the outputs at the float32 input and at the
  input as written, the box, the margins); no onnxruntime;
* onnxruntime: what the competition's checker does per counterexample: make an inference
  session from the file and run it at the float32 input.

ACAS Xu: the real counterexample ``mn_bab`` wrote for ACASXU_run2a_1_2 and prop_2 (data sets
``vnncomp-acasxu`` and ``vnncomp-results``). mnist_fc (``vnncomp-mnist_fc``): the 256x2
network from the files, and a 256x6 one built here with the same
layout (Flatten, Gemm with transB, Relu; 784 -> 256 x 6 -> 10) and float32 weights drawn
from a fixed seed at the scale of the real one; the counterexample is the centre of
prop_0_0.03's box. Best of --repeat runs of each.

Run: python benchmarks/witness.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from _timing import best, data_dir, missing

from symdnn.io.vnnlib import parse_counterexample, read_counterexample, read_vnnlib
from symdnn.witness import import_onnx
from symdnn.witness.replay import replay


def _mnist_256x6(path: Path) -> None:
    import onnx
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(15)
    sizes = [784] + [256] * 6 + [10]
    nodes = [helper.make_node("Flatten", ["0"], ["f"], axis=1)]
    inits, prev = [], "f"
    for i, (m, n) in enumerate(zip(sizes, sizes[1:], strict=False)):
        w = (rng.standard_normal((n, m)) / np.sqrt(m)).astype(np.float32)
        b = (rng.standard_normal(n) * 0.05).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [f"g{i}"], alpha=1.0,
                                      beta=1.0, transB=1))
        prev = f"g{i}"
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [prev], [f"r{i}"]))
            prev = f"r{i}"
    g = helper.make_graph(nodes, "mnist_256x6", [helper.make_tensor_value_info(
        "0", 1, [1, 784, 1])], [helper.make_tensor_value_info(prev, 1, [1, 10])],
        initializer=inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 9)]), str(path))


def _centre(prop) -> str:
    from fractions import Fraction

    def dec(v: Fraction) -> str:
        return f"{float(v):.17g}"

    return "(" + " ".join(f"(X_{i} {dec((lo + hi) / 2)})" for i, (lo, hi) in
                          enumerate(prop.input_box())) + ")"


def _time(label: str, net: Path, prop_path: Path, ce_text: str | None, ce_path: Path | None,
          repeat: int) -> None:
    import onnxruntime as ort

    def exact():
        g = import_onnx(net)
        p = read_vnnlib(prop_path)
        ce = read_counterexample(ce_path) if ce_path else parse_counterexample(ce_text)
        return replay(g, p, ce, onnxruntime=False)

    ce = read_counterexample(ce_path) if ce_path else parse_counterexample(ce_text)
    x = np.array([float(v) for v in ce.inputs]).astype(np.float32)

    def onnxrt():
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        s = ort.InferenceSession(str(net), opts, providers=["CPUExecutionProvider"])
        i = s.get_inputs()[0]
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
        return s.run(None, {i.name: x.reshape(shape)})[0]

    exact()  # warm imports
    onnxrt()
    times_e, times_o, w = [], [], None
    for _ in range(repeat):  # interleaved, so both see the same machine
        t, w = best(exact, 1)
        times_e.append(t)
        t, _ = best(onnxrt, 1)
        times_o.append(t)
    te, to = min(times_e), min(times_o)
    print(f"{label}:")
    print(f"  exact replay (from files):       {te:7.3f} s")
    print(f"  onnxruntime float32 replay:      {to:7.3f} s")
    print(f"  ratio exact / onnxruntime: {te / to:.1f}")
    print(f"  genuine {w.genuine}, margin {float(w.margin):.6g}, input margin "
          f"{float(w.input_margin):.6g}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    acas, mnist, results = (data_dir(n) for n in ("vnncomp-acasxu", "vnncomp-mnist_fc",
                                                   "vnncomp-results"))
    for name, path in (("vnncomp-acasxu", acas), ("vnncomp-mnist_fc", mnist),
                       ("vnncomp-results", results)):
        if not path.is_dir():
            print(missing(name, path))
            return
    ce = results / "mn_bab" / "acasxu" / "ACASXU_run2a_1_2_batch_2000_prop_2.counterexample.gz"
    _time("ACAS Xu 1_2, prop_2, the real mn_bab counterexample",
          acas / "onnx" / "ACASXU_run2a_1_2_batch_2000.onnx",
          acas / "vnnlib" / "prop_2.vnnlib", None, ce, args.repeat)
    prop = mnist / "vnnlib" / "prop_0_0.03.vnnlib"
    text = _centre(read_vnnlib(prop))
    _time("mnist_fc 256x2 (from the files), prop_0_0.03, the box centre",
          mnist / "onnx" / "mnist-net_256x2.onnx", prop, text, None, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        net = Path(tmp) / "mnist-net_256x6.onnx"
        _mnist_256x6(net)
        _time("mnist_fc 256x6 (built here, same layout), prop_0_0.03, the box centre", net,
              prop, text, None, args.repeat)


if __name__ == "__main__":
    main()
