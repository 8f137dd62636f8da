"""The mix/rate split always adds up to the change, whatever segments come and go."""

from __future__ import annotations

import numpy as np
import pytest
from test_insights_support import compute, definition, score_rows, survey_rows, window

from reportgen.insights.decomposition import Segment, decompose
from reportgen.insights.drivers import OTHER, segments_of


def test_random_splits_add_up_including_segments_in_only_one_period() -> None:
    rng = np.random.default_rng(1)
    for _ in range(500):
        k = int(rng.integers(2, 9))
        weight_now = rng.integers(0, 500, k).astype(float)
        weight_before = rng.integers(0, 500, k).astype(float)
        weight_now[0], weight_before[-1] = 0.0, 0.0  # one segment leaves, one arrives
        weight_now[1] = weight_now[1] or 7.0
        weight_before[0] = weight_before[0] or 9.0
        rate_now, rate_before = rng.random(k), rng.random(k)
        segments = [Segment(f"s{i}", weight_now[i], weight_now[i] * rate_now[i],
                            weight_before[i], weight_before[i] * rate_before[i])
                    for i in range(k)]
        split = decompose(segments)
        expected = (weight_now @ rate_now) / weight_now.sum() \
            - (weight_before @ rate_before) / weight_before.sum()
        assert split.mix + split.rate == pytest.approx(split.total, abs=1e-12)
        assert split.total == pytest.approx(expected, abs=1e-12)
        assert sum(c.total for c in split.contributions) == pytest.approx(split.total, abs=1e-12)
        # A segment present in one period only is all mix: it entered or left the mix.
        one_sided = [c for c in split.contributions if c.label in ("s0", f"s{k - 1}")]
        assert all(c.rate == 0.0 for c in one_sided)


def test_equal_rates_give_no_rate_part_and_equal_shares_no_mix_part() -> None:
    same_rates = decompose([Segment("a", 100, 90, 300, 270), Segment("b", 300, 150, 100, 50)])
    assert same_rates.rate == pytest.approx(0.0, abs=1e-15)
    assert same_rates.mix == pytest.approx(same_rates.total, abs=1e-15)
    same_mix = decompose([Segment("a", 100, 90, 100, 80), Segment("b", 300, 150, 300, 120)])
    assert same_mix.mix == pytest.approx(0.0, abs=1e-15)
    assert same_mix.rate == pytest.approx(same_mix.total, abs=1e-15)


@pytest.mark.parametrize("kind", ["csat", "qa_score"])
def test_split_of_engine_results_matches_the_kpi_change(kind: str) -> None:
    """New, discontinued and withheld (small) segments all land in the split, exactly."""
    rng = np.random.default_rng(9)
    history = window(2)
    before, now = history
    queues = [("Billing", 400, 300), ("Payments", 250, 380), ("Legacy", 200, 0),
              ("Launch", 0, 150), ("Tiny", 40, 12)]
    if kind == "csat":
        cells = [(p, q, n, share) for q, n_before, n_now in queues
                 for p, n, share in ((before, n_before, 0.8), (now, n_now, 0.74)) if n]
        frames = {"survey": survey_rows(rng, cells)}
        spec = {"id": "m", "calculator": "csat", "source": "survey", "by": ["queue"]}
    else:
        cells = [(p, q, n, mean) for q, n_before, n_now in queues
                 for p, n, mean in ((before, n_before, 80.0), (now, n_now, 76.0)) if n]
        frames = {"qa": score_rows(rng, cells)}
        spec = {"id": "m", "calculator": "qa_score", "source": "qa", "by": ["queue"]}
    defn = definition([spec])
    metric = compute(defn, frames, history)["m"]
    rows = metric.breakdowns["queue"]
    assert any(r.suppressed for r in rows) and any(r.change is None for r in rows)

    segments = segments_of(metric, rows)
    assert segments is not None
    assert OTHER in {s.label for s in segments}  # Legacy (gone) and Tiny (withheld)
    split = decompose(segments)
    assert split.mix + split.rate == pytest.approx(metric.change.delta, abs=1e-12)
    assert split.now == pytest.approx(metric.value, abs=1e-12)
