"""Calibration drift: auditors who score away from the calibrator, or have started to.

Two findings per calibration metric (calculator ``calibration_deviation``):

* **outside tolerance** — an auditor whose mean absolute deviation from the calibrator
  (``details["auditors"]``) exceeds ``details["tolerance"]`` (score points) by more than
  chance: a one-sided one-sample t-test of their absolute deviations against the
  tolerance, Holm-adjusted across auditors (a mean of 5.3 against a tolerance of 5 on
  nineteen tickets is noise, and flagging it would send a reviewer chasing nothing).  This
  is a level, not a change, so it carries no direction.  When the source rows are not at
  hand the calculator's figures are reported as they are, marked untested.
* **bias changed** — each auditor's signed deviations (auditor - calibrator on the same
  session and item) this period against last, by Welch's t-test, Holm-adjusted across
  auditors.  Moving away from zero is a decline, towards zero an improvement.  Only
  auditors with at least the minimum number of scores in both periods are tested.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from reportgen.insights.context import InsightContext
from reportgen.insights.severity import magnitude
from reportgen.insights.text import Verdict, delta_text, n_text, p_text, plural, tone_of
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.sections import Finding
from reportgen.stats import significance as stats
from reportgen.text import terms

CALCULATOR = "calibration_deviation"


def calibration_findings(ctx: InsightContext) -> list[Finding]:
    """Outlying auditors and significant bias changes of every calibration metric."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        if metric.calculator != CALCULATOR or not metric.details:
            continue
        table = auditor_deviations(ctx, metric)
        out += _outliers(ctx, metric, table)
        if table is not None and not table.empty:
            out += _bias_changes(ctx, metric, table)
    return out


def _excess_tests(ctx: InsightContext, metric: MetricResult, table: pd.DataFrame | None,
                  tolerance: float) -> dict[str, tuple[float, bool]] | None:
    """Per auditor: (Holm-adjusted p, beyond tolerance) of mean |deviation| > tolerance."""
    if table is None or table.empty:
        return None
    now = table.loc[table["period"] == ctx.period.key]
    names, p_values = [], []
    for auditor, part in now.groupby("auditor", sort=True):
        gaps = part["deviation"].abs().to_numpy(dtype=float)
        if len(gaps) < 2 or np.var(gaps) == 0:
            continue
        result = sps.ttest_1samp(gaps, tolerance, alternative="greater")
        names.append(str(auditor))
        p_values.append(float(result.pvalue))
    if not names:
        return {}
    adjusted, reject = stats.holm_rejections(p_values, ctx.alpha(metric.metric_id))
    return {name: (float(adj), bool(rej))
            for name, adj, rej in zip(names, adjusted, reject, strict=True)}


def _outliers(ctx: InsightContext, metric: MetricResult,
              table: pd.DataFrame | None) -> list[Finding]:
    tolerance = metric.details.get("tolerance")
    rows: Sequence[Mapping[str, Any]] = metric.details.get("auditors", ())
    if tolerance is None:
        return []
    tests = _excess_tests(ctx, metric, table, float(tolerance))
    out: list[Finding] = []
    for row in rows:
        deviation, n = row.get("mean_abs_deviation"), int(row.get("n") or 0)
        if deviation is None or n == 0 or deviation <= float(tolerance):
            continue
        tested = tests.get(str(row.get("auditor"))) if tests is not None else None
        if tests is not None and (tested is None or not tested[1]):
            continue  # not beyond tolerance by more than chance
        out.append(_outlier(ctx, metric, row, float(tolerance), tested))
    return out


def _outlier(ctx: InsightContext, metric: MetricResult, row: Mapping[str, Any],
             tolerance: float, tested: tuple[float, bool] | None) -> Finding:
    deviation, n, bias = float(row["mean_abs_deviation"]), int(row["n"]), row.get("bias")
    minimum = ctx.min_n(metric.metric_id)
    sentence = _outlier_sentence(str(row.get("auditor")), deviation, bias, tolerance)
    detail = [f"{n_text(n)} scores in {ctx.period.label}"]
    if tested is not None:
        detail.append(f"{p_text(tested[0])}, allowing for the auditors compared")
    sentence += f" ({'; '.join(detail)})."
    provisional = tested is None or n < minimum
    if tested is None:
        sentence += " Not tested against chance: the calibration rows were not available."
    elif n < minimum:
        sentence += f" Provisional: fewer than the minimum of {minimum} scores."
    numbers = {"auditor": row.get("auditor"), "n": n, "mean_abs_deviation": deviation,
               "bias": bias, "tolerance": tolerance,
               "within_tolerance": row.get("within_tolerance"),
               "p_adjusted": tested[0] if tested else None, "tested": tested is not None,
               "provisional": provisional}
    return ctx.finding("calibration_outlier", metric, f"auditor = {row.get('auditor')}",
                       sentence, numbers=numbers, tone="warning" if provisional else "bad",
                       magnitude=magnitude(deviation - tolerance, "score"))


def _outlier_sentence(auditor: str, deviation: float, bias: float | None,
                      tolerance: float) -> str:
    """What an auditor outside tolerance does, the way the calibration chart draws it.

    The chart's bar is the auditor's bias (mean signed gap), so the sentence leads with it:
    which way the auditor leans is what coaching acts on, and a slide title cut from the
    first sentence then states the number on the bar.  The average gap (mean absolute gap,
    what the tolerance is tested on, in the calibration chart's words) follows: in a second
    sentence when the lean is most of it, else in the same one (an auditor level on average
    can still be far from the calibrator ticket by ticket).
    """
    gap, limit = delta_text(deviation, "score"), delta_text(tolerance, "score")
    beyond = f"beyond the tolerance of {limit}"
    if bias is None:
        return f"Auditor {auditor}'s scores sit {gap} from the calibrator's on average, {beyond}"
    lean = f"Auditor {auditor} scores {_bias_text(float(bias))} the calibrator on average"
    if 2 * abs(float(bias)) >= deviation:
        return f"{lean}. Their {terms.AVERAGE_GAP_LONG} is {gap}, {beyond}"
    return f"{lean}, but their {terms.AVERAGE_GAP} is {gap}, {beyond}"


def auditor_deviations(ctx: InsightContext, metric: MetricResult) -> pd.DataFrame | None:
    """Signed deviations per auditor score with the period key, from the source rows."""
    spec = ctx.spec(metric.metric_id)
    if spec is None or spec.source not in ctx.frames:
        return None
    try:  # the calibration calculator owns how a deviation is computed
        from reportgen.metrics.calibration import DeviationParams, deviations
    except ImportError:
        return None
    params = ctx.plans[spec.id].params
    if not isinstance(params, DeviationParams):
        return None
    frame = ctx.frames.rows(spec.source, params.columns(), spec.filter,
                            [ctx.period, ctx.previous])
    keys = {ctx.period.key, ctx.previous.key}
    parts = []
    for key, rows in frame.groupby(PERIOD_COLUMN, sort=False, observed=True):
        if key in keys:
            parts.append(deviations(rows, params).assign(period=key))
    return pd.concat(parts, ignore_index=True) if parts else None


def _bias_changes(ctx: InsightContext, metric: MetricResult,
                  table: pd.DataFrame) -> list[Finding]:
    minimum = max(ctx.min_n(metric.metric_id), 2)
    tested: list[dict[str, Any]] = []
    for auditor, part in table.groupby("auditor", sort=True):
        now = part.loc[part["period"] == ctx.period.key, "deviation"].to_numpy(dtype=float)
        before = part.loc[part["period"] == ctx.previous.key, "deviation"].to_numpy(dtype=float)
        if len(now) < minimum or len(before) < minimum:
            continue  # too few scores for a claim (the outlier finding still shows the level)
        t, p = stats.welch_ttest(now, before)
        if not np.isfinite(p):
            continue
        tested.append({"auditor": str(auditor), "bias": float(now.mean()),
                       "previous_bias": float(before.mean()), "n": len(now),
                       "previous_n": len(before), "statistic": t, "p_value": p})
    if not tested:
        return []
    alpha = ctx.alpha(metric.metric_id)
    adjusted, reject = stats.holm_rejections([t["p_value"] for t in tested], alpha)
    out: list[Finding] = []
    for item, adj, rej in zip(tested, adjusted, reject, strict=True):
        if not rej:
            continue
        away = abs(item["bias"]) > abs(item["previous_bias"])
        verdict: Verdict = "declined" if away else "improved"
        sentence = (
            f"Auditor {item['auditor']} now scores {_bias_text(item['bias'])} the calibrator on "
            f"average in {ctx.period.label}, against {_bias_text(item['previous_bias'])} in "
            f"{ctx.previous.label}: {'drifting away from' if away else 'moving closer to'} the "
            f"calibrator ({p_text(float(adj))}, allowing for the "
            f"{plural(len(tested), 'auditor')} compared).")
        numbers = {**item, "p_adjusted": float(adj), "family_size": len(tested),
                   "adjustment": "Holm", "test": "Welch's t-test", "significant": True,
                   "delta": item["bias"] - item["previous_bias"]}
        out.append(ctx.finding("calibration_drift", metric, f"auditor = {item['auditor']}",
                               sentence, numbers=numbers, direction=verdict,
                               tone=tone_of(verdict),
                               magnitude=magnitude(item["bias"] - item["previous_bias"],
                                                   "score")))
    return out


def _bias_text(bias: float) -> str:
    if abs(bias) < 0.05:
        return "level with"
    return f"{delta_text(bias, 'score')} {'above' if bias > 0 else 'below'}"
