"""The Graph Challenge precision certificate against the exact run.

Both start from the files of the data set ``graphchallenge-1024`` (``symdnn data fetch
graphchallenge-1024``), as a user runs them: ``symdnn graph-challenge DATA_DIR`` (the exact run)
and ``symdnn certify graph-challenge DATA_DIR --formats fp64,fp32,fp16,bf16`` (the same exact
run, recording every pre-activation, and the bounds of the four formats carried alongside it,
layer by layer). 1024 neurons, 120 layers, every input of the folder. Prints the best of
--repeat runs of each, their ratio, the part of the certificate spent in the exact run itself,
and the verdicts.

Run: python benchmarks/certify.py [--repeat 3]
"""

from __future__ import annotations

import argparse

from _timing import best, data_dir, missing

from symdnn.certify import certify_graph_challenge
from symdnn.challenge import run_challenge

FORMATS = ["fp64", "fp32", "fp16", "bf16"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    root = data_dir("graphchallenge-1024")
    if not root.is_dir():
        print(missing("graphchallenge-1024", root))
        return
    times_e, times_c = [], []
    res = cert = None
    for _ in range(args.repeat):  # interleaved, so both see the same machine
        t, res = best(lambda: run_challenge(str(root)), 1)
        times_e.append(t)
        t, cert = best(lambda: certify_graph_challenge(str(root), formats=FORMATS), 1)
        times_c.append(t)
    te, tc = min(times_e), min(times_c)
    print(f"exact run alone (from files):        {te:6.2f} s   categories match truth: "
          f"{res.matches}")
    print(f"certificate, 4 formats (from files): {tc:6.2f} s   (its exact run: "
          f"{cert.seconds['exact']:.2f} s)")
    print(f"ratio certificate / exact run: {tc / te:.2f}")
    js = cert.to_json()
    zero = sum(1 for m in js["min_margin"] if m == "0")
    print(f"layers with an exactly zero margin: {zero} of {js['layers']}")
    for name, f in js["formats"].items():
        layers = sum(1 for r in f["at_risk"] if r)
        print(f"  {name:5s} (accumulate {f['accumulate']}): certified {f['certified']}, "
              f"{sum(f['at_risk'])} decisions at risk in {layers} layers, categories "
              f"certified {f['categories_certified']} ({f['categories_at_risk']} at risk), "
              f"argmax at risk {f['argmax_at_risk']}")
    print(f"smallest certified format: {js['smallest_certified']}")


if __name__ == "__main__":
    main()
