"""The foreign adapters of :mod:`symdnn.audit.foreign` against an oracle written here with
Fractions: the GraphBLAS, scipy and torch.sparse per-layer callables (bias on the structure or
on the value, ReLU, cap, chaining on their own output, inputs left untouched), ONNX export run
by onnxruntime and read back exactly, and the messages when a dependency is missing.

The inputs are dyadic with few bits, so every sum is exact in float32 whatever the order of
summation, and results are compared with ``==``.
"""

from __future__ import annotations

import importlib
import os
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp

from symdnn.assoc import AssocArray
from symdnn.audit.foreign import (
    MissingDependency,
    graphblas_layer,
    onnx_network,
    read_onnx,
    scipy_layer,
    torch_layer,
    torch_sparse_layer,
    write_onnx,
)
from symdnn.errors import DomainError, SymdnnError
from symdnn.network import SparseDNN

NP = {"fp64": np.float64, "fp32": np.float32}


# ------------------------------------------------------------------ the oracle
def exact(x: float) -> Fraction:
    return Fraction(float(x))


def oracle_layer(W: dict, bias: list, Y: dict, *, fmt: str, structural: bool,
                 rule: str = "nonzero", cap: Fraction | None = Fraction(32)) -> dict:
    """``{(i, j): float}`` of ``min(max(Y W + b, 0), cap)``, from Fractions.

    ``W`` is ``{(k, j): value}``, ``Y`` is ``{(i, k): value}``. With ``structural`` an entry of
    ``Y W`` exists when some product does (GraphBLAS); otherwise when its exact value is
    nonzero. The exact results must be values of ``fmt`` (the tests choose dyadic inputs), so
    no rounding happens here at all.
    """
    batch = 1 + max((i for i, _ in Y), default=-1)
    outs = len(bias)
    Z: dict = {}
    for (i, k), y in Y.items():
        for (k2, j), w in W.items():
            if k2 == k:
                Z[i, j] = Z.get((i, j), Fraction(0)) + exact(y) * exact(w)
    if not structural:
        Z = {key: v for key, v in Z.items() if v != 0}
    if rule == "all":
        Z = {(i, j): Z.get((i, j), Fraction(0)) for i in range(batch) for j in range(outs)}
    out = {}
    for (i, j), z in Z.items():
        v = z + exact(bias[j])
        if v > 0:
            v = v if cap is None else min(v, cap)
            f = float(NP[fmt](float(v)))
            assert Fraction(f) == v, "oracle inputs must give exact results"
            out[i, j] = f
    return out


def product_structure(W: dict, Y: dict) -> set:
    """The entries ``(i, j)`` of ``Y W`` that some product reaches."""
    return {(i, j) for (i, k) in Y for (k2, j) in W if k2 == k}


def to_scipy(d: dict, shape: tuple) -> sp.csr_matrix:
    if not d:
        return sp.csr_matrix(shape)
    (r, c), v = zip(*d.keys(), strict=True), list(d.values())
    return sp.csr_matrix((np.array(v, dtype=np.float64), (r, c)), shape=shape)


def gb_dict(M) -> dict:
    r, c, v = M.to_coo()
    return {(int(i), int(j)): float(x) for i, j, x in zip(r, c, v, strict=True)}


def csr_dict(M) -> dict:
    C = sp.coo_matrix(M)
    return {(int(i), int(j)): float(x) for i, j, x in zip(C.row, C.col, C.data, strict=True)}


def torch_dict(T) -> dict:
    """The stored entries of a sparse tensor (stored zeros included)."""
    C = (T.to_sparse_coo() if str(T.layout) == "torch.sparse_csr" else T).coalesce()
    idx, v = C.indices().tolist(), C.values().tolist()
    return {(int(i), int(j)): float(x) for i, j, x in zip(idx[0], idx[1], v, strict=True)}


def random_layer(rng, n_in: int, n_out: int, batch: int) -> tuple[dict, list, dict]:
    """Weights k/8, biases k/4 (some 0, some positive), inputs k/2 up to 32: big enough that
    the cap of 32 is reached."""
    W = {(k, j): int(rng.integers(-8, 9)) / 8 for k in range(n_in) for j in range(n_out)
         if rng.random() < 0.5}
    W = {key: v for key, v in W.items() if v != 0}
    bias = [int(rng.integers(-3, 2)) / 4 for _ in range(n_out)]
    Y = {(i, k): int(rng.integers(1, 65)) / 2 for i in range(batch) for k in range(n_in)
         if rng.random() < 0.6}
    return W, bias, Y


def snapshot(M: sp.spmatrix) -> tuple:
    M = sp.csr_matrix(M)
    return (M.data.copy(), M.indices.copy(), M.indptr.copy(), M.dtype)


def unchanged(M: sp.spmatrix, snap: tuple) -> bool:
    M = sp.csr_matrix(M)
    return (np.array_equal(M.data, snap[0]) and np.array_equal(M.indices, snap[1])
            and np.array_equal(M.indptr, snap[2]) and M.dtype == snap[3])


# ------------------------------------------------------------------ GraphBLAS
@pytest.fixture
def gb():
    return pytest.importorskip("graphblas", reason="python-graphblas is in the test extra")


@pytest.mark.parametrize("fmt", ["fp64", "fp32"])
class TestGraphBLASLayer:
    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_matches_the_fraction_oracle(self, gb, fmt, seed):
        rng = np.random.default_rng(seed)
        W, bias, Y = random_layer(rng, 7, 6, 5)
        f = graphblas_layer(fmt, cap=8.0)
        got = f(to_scipy(W, (7, 6)), np.array(bias), to_scipy(Y, (5, 7)))
        assert isinstance(got, gb.Matrix)
        assert got.dtype == (gb.dtypes.FP64 if fmt == "fp64" else gb.dtypes.FP32)
        assert (got.nrows, got.ncols) == (5, 6)
        want = oracle_layer(W, bias, Y, fmt=fmt, structural=True, cap=Fraction(8))
        assert 8.0 in want.values() and min(want.values()) < 8  # the cap is exercised
        assert gb_dict(got) == want

    def test_rule_all_adds_the_bias_everywhere(self, gb, fmt):
        rng = np.random.default_rng(3)
        W, bias, Y = random_layer(rng, 5, 4, 3)
        bias = [0.25, -0.5, 0.75, 0.0]
        got = graphblas_layer(fmt, rule="all")(to_scipy(W, (5, 4)), np.array(bias),
                                               to_scipy(Y, (3, 5)))
        want = oracle_layer(W, bias, Y, fmt=fmt, structural=True, rule="all")
        assert gb_dict(got) == want
        assert set(want) - product_structure(W, Y)  # the bias made entries Y W does not have

    def test_absent_entry_stays_absent(self, gb, fmt):
        """Column 1 of ``Y W`` has no product at all: a positive bias must not create it."""
        W = to_scipy({(0, 0): 1.0, (1, 1): 1.0}, (2, 2))
        Y = to_scipy({(0, 0): 2.0}, (1, 2))
        got = gb_dict(graphblas_layer(fmt)(W, np.array([0.5, 1.0]), Y))
        assert got == {(0, 0): 2.5}
        assert gb_dict(graphblas_layer(fmt, rule="all")(W, np.array([0.5, 1.0]), Y)) == \
            {(0, 0): 2.5, (0, 1): 1.0}

    def test_cancelled_entry_is_kept_stored_and_gets_the_bias(self, gb, fmt):
        """1*1 + 1*(-1) = 0: GraphBLAS keeps the entry as a stored 0 (it works on the
        structure), so the bias reaches it; scipy drops it, so scipy's bias does not."""
        W = to_scipy({(0, 0): 1.0, (1, 0): -1.0}, (2, 1))
        Y = to_scipy({(0, 0): 1.0, (0, 1): 1.0}, (1, 2))
        Wg, Yg = gb.io.from_scipy_sparse(W), gb.io.from_scipy_sparse(Y)
        Z = Yg.mxm(Wg, gb.semiring.plus_times).new()
        assert Z.nvals == 1 and gb_dict(Z) == {(0, 0): 0.0}  # stored, value 0
        assert gb_dict(graphblas_layer(fmt)(W, np.array([0.5]), Y)) == {(0, 0): 0.5}
        assert graphblas_layer(fmt)(W, np.array([-0.5]), Y).nvals == 0
        assert graphblas_layer(fmt)(W, np.array([0.0]), Y).nvals == 0  # 0 is not > 0
        assert scipy_layer(NP[fmt])(W, np.array([0.5]), Y).nnz == 0
        assert oracle_layer(csr_dict(W), [0.5], csr_dict(Y), fmt=fmt, structural=True) == \
            {(0, 0): 0.5}

    def test_relu_keeps_only_positive_values(self, gb, fmt):
        W = to_scipy({(0, 0): 1.0, (0, 1): 1.0, (0, 2): 1.0, (0, 3): 1.0}, (1, 4))
        Y = to_scipy({(0, 0): 0.25, (1, 0): 1.0}, (2, 1))
        got = gb_dict(graphblas_layer(fmt)(W, np.array([-0.25, -0.5, 0.0, -1.0]), Y))
        # row 0: 0, -0.25, 0.25, -0.75: only the 0.25 survives (the exact 0 does not)
        assert got == {(0, 2): 0.25, (1, 0): 0.75, (1, 1): 0.5, (1, 2): 1.0}

    def test_cap(self, gb, fmt):
        W = to_scipy({(0, 0): 1.0, (0, 1): 1.0, (0, 2): 1.0}, (1, 3))
        Y = to_scipy({(0, 0): 40.0}, (1, 1))
        b = np.array([0.0, -8.0, -20.0])
        assert gb_dict(graphblas_layer(fmt)(W, b, Y)) == {(0, 0): 32.0, (0, 1): 32.0,
                                                          (0, 2): 20.0}
        assert gb_dict(graphblas_layer(fmt, cap=None)(W, b, Y)) == {(0, 0): 40.0, (0, 1): 32.0,
                                                                    (0, 2): 20.0}

    def test_zero_bias_neuron_keeps_its_entries(self, gb, fmt):
        """The diagonal bias matrix must store its zeros, or plus_plus would drop the column."""
        W = to_scipy({(0, 0): 1.0, (0, 1): 1.0}, (1, 2))
        Y = to_scipy({(0, 0): 3.0}, (1, 1))
        assert gb_dict(graphblas_layer(fmt)(W, np.array([0.0, -1.0]), Y)) == \
            {(0, 0): 3.0, (0, 1): 2.0}

    def test_chaining_on_its_own_output(self, gb, fmt):
        rng = np.random.default_rng(7)
        f = graphblas_layer(fmt)
        sizes = [6, 5, 5, 4]
        layers = [random_layer(rng, sizes[l], sizes[l + 1], 4)[:2] for l in range(3)]
        Y0 = random_layer(rng, 6, 1, 4)[2]
        Ys = to_scipy(Y0, (4, 6))
        Y0_snap = snapshot(Ys)
        want, cur, copy = Y0, Ys, None
        for l, (W, bias) in enumerate(layers):
            Wm, b = to_scipy(W, (sizes[l], sizes[l + 1])), np.array(bias)
            W_snap = snapshot(Wm)
            nxt = f(Wm, b, cur)
            assert unchanged(Wm, W_snap) and b.tolist() == bias
            if l:  # cur is the previous output, handed back as it came
                assert cur.isequal(copy, check_dtype=True)
            want = oracle_layer(W, bias, want, fmt=fmt, structural=True)
            assert gb_dict(nxt) == want
            copy, cur = nxt.dup(), nxt
        assert unchanged(Ys, Y0_snap)
        assert want  # the last layer is not empty: the chain computed something

    def test_accumulates_in_its_format(self, gb, fmt):
        """1 + y w with y w = 2**-24 + 2**-50 (y, w float32): in fp32 the product rounds to
        2**-24 and 1 + 2**-24 ties to 1; in fp64 it is exact. A kernel accumulating in float64
        and casting at the end gives 1 + 2**-23, as would an FMA."""
        y, w = 5 * 2.0**-24, 13421773 * 2.0**-26
        assert Fraction(y) * Fraction(w) == Fraction(1, 2**24) + Fraction(1, 2**50)
        W = to_scipy({(0, 0): 1.0, (1, 0): w}, (2, 1))
        Y = to_scipy({(0, 0): 1.0, (0, 1): y}, (1, 2))
        got = gb_dict(graphblas_layer(fmt)(W, np.array([-0.5]), Y))
        assert got == {(0, 0): 0.5 + 2.0**-24 + 2.0**-50 if fmt == "fp64" else 0.5}

    def test_refuses_values_outside_the_format_and_bad_arguments(self, gb, fmt):
        W = to_scipy({(0, 0): 0.1}, (1, 1))  # 0.1 in float64 is not a float32 value
        Y = to_scipy({(0, 0): 1.0}, (1, 1))
        if fmt == "fp32":
            with pytest.raises(DomainError, match="W: value 0.1"):
                graphblas_layer(fmt)(W, np.array([0.0]), Y)
            with pytest.raises(DomainError, match="bias"):
                graphblas_layer(fmt)(to_scipy({(0, 0): 1.0}, (1, 1)), np.array([0.1]), Y)
        else:
            assert gb_dict(graphblas_layer(fmt)(W, np.array([0.0]), Y)) == {(0, 0): 0.1}
        with pytest.raises(TypeError, match="graphblas_layer: Y must be"):
            graphblas_layer(fmt)(W, np.array([0.0]), np.ones((1, 1)))
        with pytest.raises(SymdnnError, match="bias has 2 values for 1 output"):
            graphblas_layer(fmt)(Y, np.array([0.0, 0.0]), Y)
        with pytest.raises(ValueError, match="rule must be"):
            graphblas_layer(fmt, rule="some")


def test_graphblas_layer_dtype_names(gb):
    with pytest.raises(ValueError, match="dtype must be one of"):
        graphblas_layer("fp16")
    assert graphblas_layer("float32")(to_scipy({(0, 0): 1.0}, (1, 1)), np.array([0.0]),
                                      to_scipy({(0, 0): 1.0}, (1, 1))).dtype == gb.dtypes.FP32


# ------------------------------------------------------------------ scipy
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rule", ["nonzero", "all"])
def test_scipy_layer_matches_oracle_and_leaves_its_input(dtype, rule):
    rng = np.random.default_rng(11)
    W, bias, Y = random_layer(rng, 6, 6, 4)
    Wm, perm = to_scipy(W, (6, 6)), to_scipy(Y, (4, 6))
    # unsorted column indices in Y: a kernel that sorted them in place would show it
    for r in range(perm.shape[0]):
        a, b = perm.indptr[r], perm.indptr[r + 1]
        perm.indices[a:b] = perm.indices[a:b][::-1]
        perm.data[a:b] = perm.data[a:b][::-1]
    perm.has_sorted_indices = False
    snaps = snapshot(perm), snapshot(Wm)
    fmt = "fp64" if dtype is np.float64 else "fp32"
    got = scipy_layer(dtype, rule=rule)(Wm, np.array(bias), perm)
    assert unchanged(perm, snaps[0]) and unchanged(Wm, snaps[1])
    assert sp.issparse(got) and got.format == "csr" and got.dtype == dtype
    assert csr_dict(got) == oracle_layer(W, bias, Y, fmt=fmt, structural=False, rule=rule)
    again = scipy_layer(dtype, rule=rule)(Wm, np.array(bias), got)  # its own output
    assert sp.issparse(again) and again.dtype == dtype


# ------------------------------------------------------------------ torch.sparse
@pytest.mark.parametrize("layout", ["csr", "coo"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_sparse_layer_chains_and_matches_oracle(layout, dtype):
    torch = pytest.importorskip("torch", reason="torch is an optional dependency")
    fmt = "fp64" if dtype == "float64" else "fp32"
    rng = np.random.default_rng(5)
    f = torch_sparse_layer(dtype, layout=layout)
    sizes = [6, 5, 4, 4]
    Y0 = random_layer(rng, 6, 1, 4)[2]
    want, cur, prev_copy = Y0, to_scipy(Y0, (4, 6)), None
    snap = snapshot(cur)
    first = cur
    for l in range(3):
        W, bias, _ = random_layer(rng, sizes[l], sizes[l + 1], 1)
        Wm = to_scipy(W, (sizes[l], sizes[l + 1]))
        nxt = f(Wm, np.array(bias), cur)
        assert nxt.layout == (torch.sparse_csr if layout == "csr" else torch.sparse_coo)
        assert nxt.dtype == getattr(torch, dtype)
        if prev_copy is not None:
            assert torch.equal(cur.to_dense(), prev_copy)
        want = oracle_layer(W, bias, want, fmt=fmt, structural=False)
        assert torch_dict(nxt) == want
        prev_copy, cur = nxt.to_dense().clone(), nxt
    assert unchanged(first, snap)


def test_torch_sparse_layer_bias_on_the_value():
    pytest.importorskip("torch", reason="torch is an optional dependency")
    W = to_scipy({(0, 0): 1.0, (1, 0): -1.0, (0, 1): 1.0}, (2, 2))
    Y = to_scipy({(0, 0): 1.0, (0, 1): 1.0}, (1, 2))
    f = torch_sparse_layer("float64", cap=None)
    assert torch_dict(f(W, np.array([0.5, 0.5]), Y)) == {(0, 1): 1.5}  # (0, 0) cancelled
    assert torch_dict(torch_sparse_layer("float64", rule="all")(W, np.array([0.5, 0.5]), Y)) \
        == {(0, 0): 0.5, (0, 1): 1.5}
    with pytest.raises(DomainError):
        torch_sparse_layer("float32")(to_scipy({(0, 0): 0.1}, (1, 1)), np.array([0.0]),
                                      to_scipy({(0, 0): 1.0}, (1, 1)))


# ------------------------------------------------------------------ ONNX export
def dyadic_network(seed: int, sizes: list[int], *, ymax=Fraction(3, 2)) -> SparseDNN:
    """Row-convention network, weights k/4 (k in -4..4, some zero), biases k/16, neurons
    ``(layer, index)``; the neuron (1, 0) has no incoming weight."""
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for l in range(len(sizes) - 1):
        r, c, v = [], [], []
        for i in range(sizes[l]):
            for j in range(sizes[l + 1]):
                k = int(rng.integers(-4, 5))
                if k and not (l == 0 and j == 0):
                    r.append((l, i))
                    c.append((l + 1, j))
                    v.append(Fraction(k, 4))
        weights.append(AssocArray.from_triples(r, c, v, domain="QQ"))
        biases.append({(l + 1, j): Fraction(int(rng.integers(-3, 4)), 16)
                       for j in range(sizes[l + 1])})
    neurons = [[(l, i) for i in range(n)] for l, n in enumerate(sizes)]
    return SparseDNN.from_layers(weights, biases, convention="row", ymax=ymax, domain="QQ",
                                 neurons=neurons)


def dense_exact(net: SparseDNN, l: int, n_in: int, n_out: int) -> list[list[Fraction]]:
    Wd = [[Fraction(0)] * n_out for _ in range(n_in)]
    for (_, i), (_, j), v in net.layers[l].W.triples():
        Wd[i][j] = Fraction(int(v.p), int(v.q))
    return Wd


def network_oracle(net: SparseDNN, sizes: list[int], X: list[list[Fraction]]) -> list:
    """``h(x W + b)`` layer after layer, bias everywhere, in Fractions."""
    cap = None if net.ymax is None else Fraction(int(net.ymax.p), int(net.ymax.q))
    for l in range(len(sizes) - 1):
        Wd = dense_exact(net, l, sizes[l], sizes[l + 1])
        b = [Fraction(0)] * sizes[l + 1]
        for (_, j), v in net.layers[l].bias.items():
            b[j] = Fraction(int(v.p), int(v.q))
        X = [[sum((x[i] * Wd[i][j] for i in range(sizes[l])), Fraction(0)) + b[j]
              for j in range(sizes[l + 1])] for x in X]
        X = [[max(v, Fraction(0)) if cap is None else min(max(v, Fraction(0)), cap)
              for v in row] for row in X]
    return X


@pytest.mark.parametrize("ymax", [Fraction(3, 2), None])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_write_onnx_runs_in_onnxruntime_like_the_oracle(tmp_path, dtype, ymax):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    sizes = [5, 4, 6, 3]
    net = dyadic_network(1, sizes, ymax=ymax)
    path = write_onnx(net, tmp_path / "net.onnx", dtype=dtype)
    assert path == os.fspath(tmp_path / "net.onnx")
    rng = np.random.default_rng(9)
    X = [[Fraction(int(rng.integers(0, 9)), 4) for _ in range(sizes[0])] for _ in range(7)]
    want = network_oracle(net, sizes, X)
    values = {v for row in want for v in row}
    assert Fraction(0) in values  # the ReLU is exercised
    if ymax is not None:
        assert ymax in values and any(0 < v < ymax for v in values)  # and the cap
    else:
        assert max(values) > Fraction(3, 2)
    Xf = sp.csr_matrix(np.array([[float(v) for v in row] for row in X]))
    got = onnx_network(path)(Xf).toarray()
    assert [[Fraction(float(v)) for v in row] for row in got] == want
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    assert inp.name == "input" and inp.shape[1] == sizes[0] and isinstance(inp.shape[0], str)
    assert out.shape[1] == sizes[-1]
    assert inp.type == ("tensor(float)" if dtype == "float32" else "tensor(double)")


def test_write_onnx_round_trips_exactly(tmp_path):
    pytest.importorskip("onnx")
    sizes = [4, 3, 2]
    net = dyadic_network(4, sizes, ymax=32)
    # a weight that two roundings get wrong: 1 + 2**-24 + 2**-60 lies just above the midpoint
    # between 1 and 1 + 2**-23; through float64 it becomes the midpoint and rounds down to 1
    hard = 1 + Fraction(1, 2**24) + Fraction(1, 2**60)
    tri = list(net.layers[0].W.triples()) + [((0, 0), (1, 0), hard), ((0, 1), (1, 0),
                                                                       Fraction(1, 3))]
    W0 = AssocArray.from_triples(*zip(*tri, strict=True), domain="QQ")
    net = SparseDNN.from_layers([W0, net.layers[1].W], [net.layers[0].bias, net.layers[1].bias],
                                convention="row", ymax=32, domain="QQ",
                                neurons=[[(l, i) for i in range(n)] for l, n in enumerate(sizes)])
    back = read_onnx(write_onnx(net, tmp_path / "n.onnx"))
    assert float(back.ymax) == 32.0 and back.bias_rule == "all"
    w = {(i, j): Fraction(int(v.p), int(v.q)) for (_, i), (_, j), v in back.layers[0].W.triples()}
    assert w[0, 0] == 1 + Fraction(1, 2**23)  # one correct rounding, not 1
    assert w[1, 0] == Fraction(11184811, 2**25)  # 1/3 to nearest float32
    for l in range(2):
        orig = dense_exact(net, l, sizes[l], sizes[l + 1])
        got = {(i, j): Fraction(int(v.p), int(v.q))
               for (_, i), (_, j), v in back.layers[l].W.triples()}
        for i in range(sizes[l]):
            for j in range(sizes[l + 1]):
                if (l, i, j) not in ((0, 0, 0), (0, 1, 0)):
                    assert got.get((i, j), Fraction(0)) == orig[i][j]  # dyadic: unchanged
        b = {j: Fraction(int(v.p), int(v.q)) for (_, j), v in back.layers[l].bias.items()}
        assert b == {j: Fraction(int(v.p), int(v.q))
                     for (_, j), v in net.layers[l].bias.items() if v != 0}


def test_write_onnx_column_convention_is_the_transpose(tmp_path):
    pytest.importorskip("onnx")
    W = AssocArray.from_triples(["u", "u", "v"], ["x", "y", "y"], ["1/2", "-1/4", 3],
                                domain="QQ")  # outputs x inputs
    net = SparseDNN.from_layers([W], [{"u": "1/8"}], convention="column")
    back = read_onnx(write_onnx(net, tmp_path / "c.onnx"))
    got = {(i, j): Fraction(int(v.p), int(v.q)) for (_, i), (_, j), v in back.layers[0].W.triples()}
    # inputs sorted (x, y), outputs sorted (u, v): W[x -> u] = 1/2, W[y -> u] = -1/4, W[y -> v] = 3
    assert got == {(0, 0): Fraction(1, 2), (1, 0): Fraction(-1, 4), (1, 1): Fraction(3)}
    assert back.ymax is None


def test_write_onnx_refuses_what_onnx_cannot_express(tmp_path):
    pytest.importorskip("onnx")
    W = AssocArray.from_triples(["x"], ["u"], [1], domain="QQ")
    gc = SparseDNN.from_layers([W], [{"u": "-1/4"}], convention="row", bias_rule="nonzero")
    with pytest.raises(SymdnnError, match="bias_rule='nonzero'.*only bias_rule='all'"):
        write_onnx(gc, tmp_path / "gc.onnx")
    W2 = AssocArray.from_triples(["x", "x"], ["u", "v"], [1, 1], domain="QQ")
    B = AssocArray.from_triples(["s", "t"], ["u", "v"], [1, 2], domain="QQ")  # batch x neurons
    full = SparseDNN.from_layers([W2], [B], convention="row")
    assert full.layers[0].B is not None
    with pytest.raises(SymdnnError, match="layer 0 has a full bias B_l"):
        write_onnx(full, tmp_path / "full.onnx")
    with pytest.raises(ValueError, match="dtype must be one of"):
        write_onnx(gc, tmp_path / "x.onnx", dtype="float16")
    assert not list(tmp_path.iterdir())


def test_write_onnx_is_atomic(tmp_path, monkeypatch):
    pytest.importorskip("onnx")
    net = dyadic_network(1, [3, 2])
    target = tmp_path / "m.onnx"
    target.write_bytes(b"previous")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_onnx(net, target)
    assert target.read_bytes() == b"previous" and sorted(os.listdir(tmp_path)) == ["m.onnx"]
    monkeypatch.undo()
    write_onnx(net, target)
    assert target.read_bytes() != b"previous" and sorted(os.listdir(tmp_path)) == ["m.onnx"]


# ------------------------------------------------------------------ missing dependencies
@pytest.fixture
def without(monkeypatch):
    """``without("torch", ...)``: make importing those modules fail, as if not installed."""
    real = importlib.import_module

    def hide(*names):
        def fake(name, package=None):
            if name.split(".")[0] in names:
                raise ImportError(f"No module named {name!r}")
            return real(name, package)
        monkeypatch.setattr(importlib, "import_module", fake)
    return hide


@pytest.mark.parametrize("module,pip_name,call", [
    ("graphblas", "python-graphblas", lambda p: graphblas_layer()),
    ("torch", "torch", lambda p: torch_sparse_layer()),
    ("torch", "torch", lambda p: torch_layer()),
    ("onnx", "onnx", lambda p: write_onnx(dyadic_network(0, [2, 2]), p)),
    ("onnxruntime", "onnxruntime", lambda p: onnx_network(p)),
])
def test_missing_dependency_names_the_pip_package(without, tmp_path, module, pip_name, call):
    without(module)
    with pytest.raises(MissingDependency, match=f"needs {pip_name}: pip install {pip_name}$") \
            as err:
        call(str(tmp_path / "m.onnx"))
    assert isinstance(err.value, ImportError) and isinstance(err.value, SymdnnError)
    assert not list(tmp_path.iterdir())


def test_read_onnx_needs_no_onnx_package(without, tmp_path):
    """read_onnx decodes the file in pure Python: it works with onnx hidden, and reads back
    exactly the weights write_onnx rounded."""
    net = dyadic_network(3, [3, 2])
    path = write_onnx(net, tmp_path / "n.onnx")
    without("onnx")
    back = read_onnx(path)
    assert len(back.layers) == len(net.layers) == 1
    for a, b in zip(net.layers, back.layers, strict=True):  # k/4 weights are exact in fp32
        assert sorted(a.W.triples()) == sorted(b.W.triples())
