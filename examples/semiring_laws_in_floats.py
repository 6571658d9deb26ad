"""Which of the Appendix A laws survive in each float format, and one counterexample for each
law that does not. Exact domains are shown for contrast: every law holds there.

Run: python examples/semiring_laws_in_floats.py
"""

from __future__ import annotations

from symdnn import DomainError, check_laws, semirings


def main() -> None:
    for name in ("plus_times", "max_plus", "max_min"):
        for domain in ("QQ", "fp64", "fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2"):
            try:
                report = check_laws(semirings.get(name), domain, samples=500, seed=0)
            except DomainError as exc:
                print(f"{name} over {domain}: not representable ({exc})")
                continue
            print(report)


if __name__ == "__main__":
    main()
