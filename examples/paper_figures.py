"""Draw the paper's construction figures (Figs. 3-8) as PNG and SVG into a folder.

Fig. 3: single-layer solution over MNIST images (needs ``symdnn data fetch mnist``; without
it Fig. 3 is skipped, and the script says so);
Fig. 4-5: the combinatoric construction over f1..f4 = {1a, 1b} ... {4a, 4b};
Fig. 6: the two-letter words; Fig. 7: a two-layer scheme over three-letter words;
Fig. 8: the three-layer scheme over four-letter words; Fig. 9: the sub-DNNs supporting "cat"
and what its first letter reaches; Fig. 10: P_d and P_fa, exactly.

Run: python examples/paper_figures.py [OUT_DIR]   (default ./figures; it must not exist:
the script stops with exit status 2 otherwise)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from symdnn.analysis import analyze
from symdnn.constructions import combinatoric, mnist, selective
from symdnn.data import words
from symdnn.plotting import draw_network, draw_subdnn, plot_thresholds, spy


def mnist_folder() -> Path:
    """Where ``symdnn data fetch mnist`` puts the MNIST test set."""
    try:
        from symdnn.data import dataset_path
    except ImportError:  # a symdnn without the data registry: $SYMDNN_DATA/mnist
        return Path(os.environ.get("SYMDNN_DATA", "symdnn-data")) / "mnist"
    return Path(dataset_path("mnist"))


def main(out: str = "figures") -> None:
    d = Path(out)
    if os.path.lexists(d):
        print(f"paper_figures.py: error: {d} exists; give a new folder", file=sys.stderr)
        raise SystemExit(2)
    d.mkdir(parents=True)
    figs = {}
    comb = combinatoric([["1a", "1b"], ["2a", "2b"], ["3a", "3b"], ["4a", "4b"]])
    figs["fig5_W0"] = (comb.net.layers[0].W, "Fig. 5 (top): W0 = W0(f12) (+) W0(f34)")
    figs["fig5_W1"] = (comb.net.layers[1].W, "Fig. 5 (top): W1")
    figs["fig5_single"] = (comb.inputs.T, "Fig. 5 (bottom): single layer |W1 W0|_0")
    two = selective(words("words2"))
    figs["fig6_W0"] = (two.net.layers[0].W, "Fig. 6: 37 two-letter words")
    three = selective(words("words3")[:30], "three2")
    figs["fig7_W0"] = (three.net.layers[0].W, "Fig. 7: W0, three-letter words (12,3/123)")
    figs["fig7_W1"] = (three.net.layers[1].W, "Fig. 7: W1")
    four = selective(words("words4")[:24], "chain")
    for l in range(3):
        figs[f"fig8_W{l}"] = (four.net.layers[l].W, f"Fig. 8: W{l}, four-letter words (chain)")
    data = mnist_folder()
    if (data / "t10k-images-idx3-ubyte.gz").is_file():
        m = mnist(data / "t10k-images-idx3-ubyte.gz", data / "t10k-labels-idx1-ubyte.gz",
                  count=40)
        figs["fig3_W0"] = (m.net.layers[0].W, "Fig. 3: 40 MNIST images, pixels keyed by letters")
    else:
        print(f"Fig. 3 skipped: no MNIST in {data} (symdnn data fetch mnist)")
    for name, (A, title) in figs.items():
        for ext in ("png", "svg"):
            spy(A, d / f"{name}.{ext}", title=title)
    draw_network(four.net, d / "fig8_network.png", title="Fig. 8: three-layer word network")
    cats = [w for w in words("words3") if w[0] in "cd"][:12]
    for scheme in ("single", "three2", "chain"):
        draw_subdnn(selective(cats, scheme).net, "cat", "1c", d / f"fig9_{scheme}.png",
                    title=f"Fig. 9 ({scheme}): sub-DNN of 'cat', in red what 1c reaches")
    plot_thresholds(analyze(selective(words("words2"), "single", [0])),
                    str(d / "fig10_left.png"), title="Fig. 10 (left): one layer, beta = 0")
    plot_thresholds(analyze(selective(words("words4"), "pairs", ["4/5", 1])),
                    str(d / "fig10_right.png"),
                    title="Fig. 10 (right): two layers, beta = (4/5, 1)")
    print(f"wrote {len(figs) * 2 + 6} files to {d}/")


if __name__ == "__main__":
    main(*sys.argv[1:])
