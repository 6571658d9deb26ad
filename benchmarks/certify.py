"""The Graph Challenge precision certificate against the exact run.

Both start from the files of the data set ``graphchallenge-1024`` (``symdnn data fetch
graphchallenge-1024``), as a user runs them: ``symdnn graph-challenge DATA_DIR`` (the exact run)
and ``symdnn certify graph-challenge DATA_DIR --formats fp64,fp32,fp16,bf16`` (the same exact
run, recording every pre-activation, and the bounds of the four formats carried alongside it,
layer by layer). 1024 neurons, 120 layers, every input of the folder. Each repetition runs
both, one after the other; printed: the best of each, the ratio of the two times of each
repetition (never of bests taken from different repetitions), the part of the certificate of
the fastest repetition spent in its own exact run, and the verdicts.

Run: python benchmarks/certify.py [--repeat 3]
"""

from __future__ import annotations

import argparse

from _timing import data_dir, missing, paired, ratios

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
    certs: list = []

    def one_cert():
        certs.append(certify_graph_challenge(str(root), formats=FORMATS))
        return certs[-1]

    times, out = paired({"exact": lambda: run_challenge(str(root)), "cert": one_cert},
                        args.repeat)
    res = out["exact"]
    i = min(range(args.repeat), key=times["cert"].__getitem__)
    cert = certs[i]
    print(f"{args.repeat} repetitions, each running both")
    print(f"exact run alone (from files):        best {min(times['exact']):6.2f} s   "
          f"categories match truth: {res.matches}")
    print(f"certificate, 4 formats (from files): best {times['cert'][i]:6.2f} s   (its own "
          f"exact run: {cert.seconds['exact']:.2f} s)")
    print(f"ratio certificate / exact run, each repetition: "
          f"{ratios(times['cert'], times['exact'])}")
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
