"""Draw the paper's construction figures (Figs. 3-8) as PNG and SVG into a folder.

Fig. 3: single-layer solution over MNIST images (needs the MNIST files; set SYMDNN_DATA);
Fig. 4-5: the combinatoric construction over f1..f4 = {1a, 1b} ... {4a, 4b};
Fig. 6: the two-letter words; Fig. 7: a two-layer scheme over three-letter words;
Fig. 8: the three-layer scheme over four-letter words.

Run: python examples/paper_figures.py [OUT_DIR]   (default ./figures)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from symdnn.constructions import combinatoric, mnist, selective
from symdnn.data import words
from symdnn.plotting import draw_network, spy


def main(out: str = "figures") -> None:
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
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
    data = Path(os.environ.get("SYMDNN_DATA", Path(__file__).resolve().parents[2] /
                               "shared" / "data")) / "mnist"
    if (data / "t10k-images-idx3-ubyte.gz").is_file():
        m = mnist(data / "t10k-images-idx3-ubyte.gz", data / "t10k-labels-idx1-ubyte.gz",
                  count=40)
        figs["fig3_W0"] = (m.net.layers[0].W, "Fig. 3: 40 MNIST images, pixels keyed by letters")
    for name, (A, title) in figs.items():
        for ext in ("png", "svg"):
            spy(A, d / f"{name}.{ext}", title=title)
    draw_network(four.net, d / "fig8_network.png", title="Fig. 8: three-layer word network")
    print(f"wrote {len(figs) * 2 + 1} files to {d}/")


if __name__ == "__main__":
    main(*sys.argv[1:])
