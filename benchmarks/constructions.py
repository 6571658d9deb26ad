"""Construction and exact verification times.

* combinatoric: four feature sets of 18 features each, 18**4 = 104,976 categories, two layers;
* selective: the paper's three-layer scheme (12,23,34/123,234/1234) over the bundled
  four-letter words;
* images: the first 1000 MNIST test images (the data set ``mnist``: ``symdnn data fetch
  mnist``), with contained images dropped.

Prints, for each, the construction time, the verification time (the model problem run in exact
arithmetic and Y_L checked), the network's size and the peak memory (tracemalloc, measured in a
separate untimed pass).

Run: python benchmarks/constructions.py [--sizes 18,18,18,18]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from _timing import data_dir, missing

from symdnn.constructions import combinatoric, mnist, selective
from symdnn.data import words


def timed(label: str, build) -> None:
    t0 = time.perf_counter()
    c = build()
    t1 = time.perf_counter()
    v = c.verify()
    t2 = time.perf_counter()
    sizes = (len(c.categories), len(c.features), c.net.depth,
             sum(ly.W.nnz for ly in c.net.layers))
    del c
    tracemalloc.start()  # a second, untimed pass: tracemalloc slows allocation down
    build().verify()
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{label}: {sizes[0]} categories, {sizes[1]} features, {sizes[2]} layers, "
          f"{sizes[3]} weights")
    print(f"    construction {t1 - t0:7.2f} s   verification {t2 - t1:7.2f} s   "
          f"peak {top / 2**20:7.1f} MiB")
    print(f"    {v.summary(2)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="18,18,18,18", help="combinatoric feature set sizes")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    sets = [[f"{i}:{j:02d}" for j in range(n)] for i, n in enumerate(sizes, 1)]
    timed(f"combinatoric {args.sizes}", lambda: combinatoric(sets))
    timed("selective, three-layer scheme over words4",
          lambda: selective(words("words4"), "chain"))
    data = data_dir("mnist")
    if (data / "t10k-images-idx3-ubyte.gz").is_file():
        timed("images, first 1000 MNIST test images (contained ones dropped)",
              lambda: mnist(data / "t10k-images-idx3-ubyte.gz",
                            data / "t10k-labels-idx1-ubyte.gz", count=1000, contained="drop"))
    else:
        print(f"images: {missing('mnist', data)}")


if __name__ == "__main__":
    main()
