"""Audit sample design and integrity: is the QA sample large enough, kept as drawn, and like
the work it stands for?

``audit_sample`` reads the population a QA programme samples from, one row per item of the
period (a ticket, a moderation decision), with the audit status of the items drawn:
``status_column`` is blank for an item not drawn, one of ``audited`` for an item audited and
one of ``skipped`` for an item a reviewer skipped or replaced.  Audited items carry the
audited KPI (``kpi_column``: a pass flag, or a score).  Three questions, all in ``details``:

* **Size.** Per ``group_column`` (queue or agent), the audits needed for the KPI's interval to
  have half-width ``half_width`` at ``confidence``: for a rate statsmodels'
  ``samplesize_confint_proportion`` at ``planning_rate``, for a mean (z sd / h)^2; then
  Cochran's finite-population correction n0 / (1 + (n0 - 1) / N), N the group's items in the
  period.  Against the audits done, with the half-width they achieve.
* **Skips.** The share of drawn items skipped or replaced (the metric's value, Wilson), and
  whether skipped items differ from audited ones in each ``compare`` column: a category by
  Pearson's chi-square of its values x (skipped, audited), a number by Mann-Whitney's U (or
  Welch's t); Holm across the columns.
* **Mix.** The audited items' shares of the strata (the combinations of ``strata``) against
  the population's: Pearson's chi-square of strata x (audited, not audited), Fisher's exact
  test per stratum (Holm across strata); and the KPI post-stratified to the population's mix
  (``stats.strata``), next to the unweighted one.  Both estimates are of the period's items,
  so both carry the finite-population correction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reportgen._lazy import lazy
from reportgen.metrics.audit_items import (
    AUDITED,
    OTHER,
    SKIPPED,
    AuditSampleParams,
    ComparedColumn,
    items,
)
from reportgen.metrics.base import (
    CALCULATORS,
    Calculator,
    CalculatorParams,
    Exclusion,
    HistoryFrames,
    not_a_flag,
    only_where,
)
from reportgen.metrics.estimates import Proportion

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from reportgen.stats import intervals, significance, strata
else:
    np = lazy("numpy")
    pd = lazy("pandas")
    intervals = lazy("reportgen.stats.intervals")
    significance = lazy("reportgen.stats.significance")
    strata = lazy("reportgen.stats.strata")

# --- size ---------------------------------------------------------------------------------


def _planning(table: pd.DataFrame, params: AuditSampleParams) -> tuple[float | None, str]:
    """The rate (or spread) the sample sizes are planned at, and how it was chosen."""
    values = table["kpi"].dropna()
    if params.kpi == "rate":
        if params.planning_rate != "observed":
            return float(params.planning_rate), "given"
        rate = float(values.mean()) if len(values) else None
        if rate is None or rate in (0.0, 1.0):  # no spread to plan on: the worst case
            return 0.5, "worst case (the observed rate has no spread)"
        return rate, "observed"
    if params.planning_sd is not None:
        return params.planning_sd, "given"
    sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return (sd, "observed") if sd > 0 else (None, "no spread observed to plan on")


def _size(audits: int, population: int, planning: float | None,
          params: AuditSampleParams) -> dict[str, Any]:
    row: dict[str, Any] = {"population": population, "audits": audits, "required": None,
                           "shortfall": None, "half_width_achieved": None}
    if planning is None or population == 0:
        return row
    if params.kpi == "rate":
        required = intervals.sample_size(params.half_width, params.confidence, planning,
                                         population)
        achieved = intervals.margin_of_error(audits, params.confidence, planning, population)
    else:
        required = intervals.mean_sample_size(params.half_width, planning, params.confidence,
                                              population)
        achieved = intervals.mean_margin_of_error(audits, planning, params.confidence,
                                                  population)
    row.update(required=required, shortfall=max(required - audits, 0),
               half_width_achieved=achieved)
    return row


def sample_sizes(table: pd.DataFrame, params: AuditSampleParams) -> dict[str, Any]:
    """Per group and overall: items, audits with a KPI value, audits needed, the shortfall
    and the half-width achieved."""
    planning, how = _planning(table, params)
    measured = table["kpi"].notna()
    groups = []
    for group, part in table.groupby("group", sort=True):
        groups.append({"group": str(group), **_size(int(measured.loc[part.index].sum()),
                                                    len(part), planning, params)})
    return {"planning_value": planning, "planning": how, "groups": groups,
            "overall": _size(int(measured.sum()), len(table), planning, params),
            "short": sum(1 for g in groups if g["shortfall"]),
            "finite_population_correction": True}


# --- skips --------------------------------------------------------------------------------


def skip_share(table: pd.DataFrame) -> Proportion:
    """Items skipped or replaced among the items drawn for audit."""
    return Proportion(float((table["role"] == SKIPPED).sum()),
                      float(table["role"].isin([AUDITED, SKIPPED]).sum()))


def _categorical(values: pd.Series, skipped: pd.Series) -> dict[str, Any]:
    text = values.astype("string").str.strip()
    known = text.notna() & (text != "")
    codes, categories = pd.factorize(text[known], sort=True)
    mask = skipped[known].to_numpy(bool)
    in_skipped = np.bincount(codes[mask], minlength=len(categories)).astype(float)
    in_audited = np.bincount(codes[~mask], minlength=len(categories)).astype(float)
    test = strata.mix_test(in_skipped, in_skipped + in_audited)
    n_skipped, n_audited = int(in_skipped.sum()), int(in_audited.sum())
    skipped_share = in_skipped / max(n_skipped, 1)
    audited_share = in_audited / max(n_audited, 1)
    rows: list[dict[str, Any]] = [
        {"value": str(value), "skipped": int(s), "audited": int(a),
         "skipped_share": float(ss) if n_skipped else None,
         "audited_share": float(sa) if n_audited else None}
        for value, s, a, ss, sa in zip(categories, in_skipped, in_audited, skipped_share,
                                       audited_share, strict=True)]
    # the category skipped items hold most more of than audited ones
    gaps = skipped_share - audited_share
    gap = rows[int(np.argmax(gaps))] if rows else None
    return {"n_skipped": n_skipped, "n_audited": n_audited, "categories": rows,
            "statistic": test.statistic if test else None,
            "p_value": test.p_value if test else None,
            "method": test.method if test else None,
            "most_over": gap["value"] if gap else None}


def _numeric(values: pd.Series, skipped: pd.Series, column: ComparedColumn) -> dict[str, Any]:
    from scipy import stats as sps

    number = pd.to_numeric(values, errors="coerce").astype(float)
    a = number[skipped & number.notna()].to_numpy(float)
    b = number[~skipped & number.notna()].to_numpy(float)
    row: dict[str, Any] = {"n_skipped": len(a), "n_audited": len(b), "statistic": None,
                           "p_value": None, "method": None, "superiority": None,
                           "skipped_median": None, "audited_median": None,
                           "skipped_mean": None, "audited_mean": None, "higher": None}
    if len(a) < 2 or len(b) < 2:
        return row
    row.update(skipped_median=float(np.median(a)), audited_median=float(np.median(b)),
               skipped_mean=float(a.mean()), audited_mean=float(b.mean()))
    if column.numeric_test == "welch":
        t, p = significance.welch_ttest(a, b)
        row.update(statistic=t, p_value=None if np.isnan(p) else p, method="Welch's t-test",
                   higher=bool(a.mean() > b.mean()))
        return row
    if np.ptp(np.concatenate([a, b])) == 0:  # every value equal: no difference to find
        row.update(statistic=len(a) * len(b) / 2, p_value=1.0, superiority=0.5,
                   method="Mann-Whitney U", higher=False)
        return row
    test = sps.mannwhitneyu(a, b, alternative="two-sided")
    superiority = float(test.statistic) / (len(a) * len(b))
    row.update(statistic=float(test.statistic), p_value=float(test.pvalue),
               superiority=superiority, method="Mann-Whitney U", higher=superiority > 0.5)
    return row


def skip_details(frame: pd.DataFrame, table: pd.DataFrame,
                 params: AuditSampleParams) -> dict[str, Any]:
    """The skip share with its interval, skips by status, and each compared column's test
    of skipped against audited items (Holm across the columns)."""
    share = skip_share(table)
    bounds = share.interval(params.confidence)
    drawn = table["role"].isin([AUDITED, SKIPPED])
    skipped = table["role"] == SKIPPED
    out: dict[str, Any] = {
        "drawn": int(drawn.sum()), "skipped": int(skipped.sum()),
        "audited": int((table["role"] == AUDITED).sum()), "share": share.value,
        "low": bounds.low if bounds else None, "high": bounds.high if bounds else None,
        "by_status": {str(k): int(v) for k, v in
                      table.loc[skipped, "status"].value_counts().sort_index().items()},
        "other_statuses": int((table["role"] == OTHER).sum()),
        "tested": False, "reason": None, "columns": [], "family_size": 0,
        "min_skipped": params.min_skipped}
    if not out["drawn"]:
        out["reason"] = "no items drawn for audit"
    elif not out["skipped"]:
        out["reason"] = "no items skipped"
    elif not out["audited"]:
        out["reason"] = "no items audited"
    elif out["skipped"] < params.min_skipped:
        out["reason"] = "too few items skipped"
    if out["reason"]:
        return out
    rows = []
    for column in params.compare:
        values, is_skipped = frame.loc[drawn, column.column], skipped[drawn]
        found = (_categorical(values, is_skipped) if column.kind == "categorical"
                 else _numeric(values, is_skipped, column))
        rows.append({"column": column.column, "label": column.name, "kind": column.kind,
                     "higher_word": column.higher, "lower_word": column.lower,
                     "unit": column.unit, **found})
    adjusted, rejected = significance.holm_rejections([r["p_value"] for r in rows],
                                                      params.alpha)
    for row, p, reject in zip(rows, adjusted, rejected, strict=True):
        row["p_adjusted"] = p if row["p_value"] is not None else None
        row["differs"] = bool(reject and row["p_value"] is not None)
    out.update(tested=True, columns=rows,
               family_size=sum(1 for r in rows if r["p_value"] is not None))
    return out


# --- mix ----------------------------------------------------------------------------------


def _estimate(values: list[np.ndarray], sizes: list[int],
              params: AuditSampleParams) -> dict[str, Any] | None:
    found = strata.post_stratified(values, sizes)
    if found is None:
        return None
    interval = strata.rate_interval if params.kpi == "rate" else strata.mean_interval
    low, high = interval(found, params.confidence)
    return {"value": found.value, "low": low, "high": high, "n": found.n,
            "se": float(np.sqrt(found.variance)), "df": found.df}


def mix_details(table: pd.DataFrame, params: AuditSampleParams) -> dict[str, Any]:
    """The audited mix of strata against the population's, tested, and the KPI unweighted
    and post-stratified to the population's mix."""
    population = table.groupby("stratum", sort=True).size()
    audited = (table["role"] == AUDITED).groupby(table["stratum"], sort=True).sum() \
        .reindex(population.index, fill_value=0)
    n, total = int(audited.sum()), int(population.sum())
    test = strata.mix_test(audited.to_numpy(float), population.to_numpy(float))
    tested = test is not None and n >= 2
    # None when untested: the data cannot say either way
    representative = None if not tested or test is None else test.p_value >= params.alpha
    singles = strata.stratum_tests(audited.to_numpy(float), population.to_numpy(float))
    adjusted = significance.holm(singles)
    rows = []
    for (stratum, size), count, p, p_adj in zip(population.items(), audited, singles, adjusted,
                                                strict=True):
        audited_share = count / n if n else None
        share = size / total
        named = bool(representative is False and p_adj is not None and p_adj < params.alpha)
        rows.append({"stratum": str(stratum), "population": int(size), "audited": int(count),
                     "population_share": share, "audited_share": audited_share,
                     "p_value": p, "p_adjusted": p_adj,
                     "over": named and audited_share is not None and audited_share > share,
                     "under": named and audited_share is not None and audited_share < share})
    measured = table.loc[table["kpi"].notna()]
    by_stratum = {str(k): g["kpi"].to_numpy(float) for k, g in measured.groupby("stratum")}
    kept = [s for s in population.index if len(by_stratum.get(str(s), ())) >= params.min_stratum_audits]
    reweighted = _estimate([by_stratum[str(s)] for s in kept],
                           [int(population[s]) for s in kept], params) if kept else None
    if reweighted is not None:
        reweighted["coverage"] = float(population[kept].sum()) / total
    reason = None
    if not tested:
        reason = ("no items audited" if n == 0 else "too few items audited" if n < 2
                  else "every item audited" if n >= total else "one stratum only")
    return {
        "strata_columns": list(params.strata), "audited": n, "population": total,
        "tested": tested, "reason": reason,
        "statistic": test.statistic if tested and test else None,
        "df": test.df if tested and test else None,
        "p_value": test.p_value if tested and test else None,
        "method": test.method if tested and test else None,
        "representative": representative, "strata": rows,
        "unweighted": _estimate([measured["kpi"].to_numpy(float)], [total], params),
        "reweighted": reweighted,
        "left_out": [str(s) for s in population.index if s not in kept],
        "min_stratum_audits": params.min_stratum_audits,
    }


# --- the calculator ------------------------------------------------------------------------


def _either(values: list[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


@CALCULATORS.register("audit_sample")
class AuditSample(Calculator):
    """Share of items drawn for audit that reviewers skipped or replaced; the sample's size
    per group, its skips and its mix against the population are in the details."""

    name = "audit_sample"
    Params = AuditSampleParams
    unit = "percent"
    direction = "lower"
    additive = True
    estimate_kind = "proportion"
    formula = ("items whose {status_column} is one of {skipped} / items drawn for audit "
               "({status_column} one of {audited}, {skipped}); the audits needed for the {kpi_label} within "
               "+-{half_width} at {confidence} confidence (finite-population corrected); skipped "
               "against audited items, Holm at {alpha}; the audited mix of {strata} against the "
               "population's, with the {kpi_label} post-stratified to it")

    def describe(self, params: CalculatorParams) -> str:
        assert isinstance(params, AuditSampleParams)
        where = (f" per {params.group_column}" if params.group_column is not None
                 else " over the whole period")
        return super().describe(params).replace(" the audits needed", f" the audits needed{where}")

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, AuditSampleParams)
        column, known = params.status_column, [*params.audited, *params.skipped]

        def unknown(cols: Any) -> Any:
            import sqlalchemy as sa

            written = sa.and_(cols[column].is_not(None), cols.trimmed(column) != "")
            return sa.and_(written, sa.not_(cols.lower_in(column, known)))

        out = [Exclusion("unknown_status", f"'{column}' value",
                         f"other than {_either(known)} (not read as drawn)", unknown)]
        if params.kpi == "rate":
            out.append(only_where(not_a_flag(params.kpi_column),
                                  lambda cols: cols.lower_in(column, params.audited)))
        return tuple(out)

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, AuditSampleParams)
        return skip_share(items(frame, params))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, AuditSampleParams)
        table = items(frame, params)
        return {
            "kpi": params.kpi, "kpi_label": params.kpi_label, "kpi_column": params.kpi_column,
            "item_noun": params.item_noun, "group_column": params.group_column,
            "half_width": params.half_width, "confidence": params.confidence,
            "alpha": params.alpha, "population": len(table),
            "kpi_missing": int(((table["role"] == AUDITED) & table["kpi"].isna()).sum()),
            "size": sample_sizes(table, params),
            "skips": skip_details(frame, table, params),
            "mix": mix_details(table, params),
        }
