"""Inter-rater reliability of calibration sessions: Cohen's and Fleiss' kappa, Krippendorff's alpha, ICC.

Each returns a ``Statistic`` estimate: the coefficient as value, the number of units (or
auditor x reference pairs for Cohen's kappa) as n, an interval where the method gives
one, and no change test.  A unit is a session x item (see ``calibration.PanelParams``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, SupportsInt, cast

from pydantic import Field

from reportgen._lazy import lazy
from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams, HistoryFrames
from reportgen.metrics.calibration import PanelParams, is_reference, unit_ids
from reportgen.metrics.estimates import Statistic
from reportgen.report.model.metric_results import Scale

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from reportgen.stats import agreement, clustered
else:
    np = lazy("numpy")
    pd = lazy("pandas")
    agreement = lazy("reportgen.stats.agreement")
    clustered = lazy("reportgen.stats.clustered")


def bootstrap_name() -> str:
    """How the agreement statistics without an analytic standard error get their interval."""
    return (f"percentile bootstrap ({agreement.BOOTSTRAP_RESAMPLES} resamples of units, "
            f"seed {agreement.BOOTSTRAP_SEED})")


class AgreementScale:
    """An agreement coefficient lies between -1 and 1 (1: perfect agreement, 0: what
    chance gives); its tile says so, and a target must lie on the good half."""

    def scale_for(self, params: CalculatorParams) -> Scale:
        return Scale(-1, 1)


class AgreementParams(PanelParams):
    column_fields: ClassVar[tuple[str, ...]] = (*PanelParams.column_fields, "rating_column")
    item_columns: list[str] = Field(default_factory=lambda: ["ticket_id", "category"], description="Columns identifying the rated item within a session.")
    rating_column: str = Field("rating", description="Column holding the rating; blank = not rated.")


def _ratings(frame: pd.DataFrame, params: AgreementParams) -> pd.DataFrame:
    """unit, rater, rating and reference flag of every non-blank rating."""
    rated = frame[params.rating_column].notna()
    out = pd.DataFrame({
        "unit": unit_ids(frame, params),
        "rater": frame[params.rater_column].astype(str),
        "rating": frame[params.rating_column],
        "reference": is_reference(frame, params),
    }).loc[rated]
    numbers = pd.to_numeric(out["rating"], errors="coerce")
    if numbers.notna().all():  # numeric scales keep their values (weights, distances)
        out["rating"] = numbers.astype(float)
    return out


def _levels(values: pd.Series) -> list[Any]:
    return sorted(values.unique().tolist())


def _numeric(levels: list[Any]) -> bool:
    return all(isinstance(v, int | float) for v in levels)


class KappaParams(AgreementParams):
    weights: Literal["none", "linear", "quadratic"] = Field(
        "none", description="Disagreement weights: none (unweighted), linear or quadratic (ordinal scales).")


def _pairs(frame: pd.DataFrame, params: AgreementParams) -> pd.DataFrame:
    """Every auditor rating paired with each reference rating of the same unit."""
    rows = _ratings(frame, params)
    reference = rows.loc[rows["reference"], ["unit", "rating"]]
    auditors = rows.loc[~rows["reference"], ["unit", "rater", "rating"]]
    return auditors.merge(reference, on="unit", suffixes=("", "_reference"))


def _kappa(pairs: pd.DataFrame, weights: str) -> tuple[float, float, int]:
    levels = _levels(pd.concat([pairs["rating"], pairs["rating_reference"]]))
    table = pd.crosstab(pd.Categorical(pairs["rating"], categories=levels),
                        pd.Categorical(pairs["rating_reference"], categories=levels),
                        dropna=False).to_numpy(dtype=float)
    if len(levels) < 2:  # everyone used one category: chance agreement is 1, kappa undefined
        return float("nan"), float("nan"), len(pairs)
    if weights != "none" and not _numeric(levels):  # text labels have no distance to weigh
        return float("nan"), float("nan"), len(pairs)
    kappa, se = agreement.cohens_kappa(table, weights,  # type: ignore[arg-type]
                                   levels if _numeric(levels) else None)
    return kappa, se, len(pairs)


def item_bootstrap_name() -> str:
    """How pooled Cohen's kappa gets its interval: items resampled with all their pairs."""
    return (f"percentile bootstrap over items, each item's auditor x calibrator pairs kept "
            f"together ({agreement.BOOTSTRAP_RESAMPLES} resamples, seed {agreement.BOOTSTRAP_SEED})")


def _pair_units(pairs: pd.DataFrame, weights: str) -> tuple[np.ndarray, np.ndarray]:
    """Each item's table of its pairs (the bootstrap's per-unit shares) and the kappa's
    disagreement weights."""
    levels = _levels(pd.concat([pairs["rating"], pairs["rating_reference"]]))
    index = {level: i for i, level in enumerate(levels)}
    units = pd.factorize(pairs["unit"])[0]
    shares = clustered.kappa_pair_units(units, pairs["rating"].map(index).to_numpy(int),
                                        pairs["rating_reference"].map(index).to_numpy(int),
                                        len(levels))
    disagreement = clustered.kappa_disagreement(levels if _numeric(levels) else None,
                                                len(levels), weights)
    return shares, disagreement


@CALCULATORS.register("cohen_kappa")
class CohenKappa(AgreementScale, Calculator):
    """Cohen's kappa of auditors against the calibrator, all auditors pooled."""

    name = "cohen_kappa"
    Params = KappaParams
    unit = "ratio"
    direction = "higher"
    estimate_kind = "statistic"
    formula = ("kappa = (p_o - p_e) / (1 - p_e) over auditor x calibrator rating pairs on the same "
               "unit ({weights} weights; weighted: 1 - sum w o / sum w e)")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Statistic:
        assert isinstance(params, KappaParams)
        pairs = _pairs(frame, params)
        if pairs.empty:
            return Statistic(None, 0)
        kappa, _, n = _kappa(pairs, params.weights)
        if np.isnan(kappa):
            return Statistic(kappa, n)
        shares, disagreement = _pair_units(pairs, params.weights)
        return Statistic(kappa, n, item_bootstrap_name(), lambda level: agreement.bootstrap_interval(
            shares, lambda tables: clustered.cohens_kappa_of_totals(tables, disagreement),
            level))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, KappaParams)
        pairs = _pairs(frame, params)
        auditors = []
        for auditor, part in pairs.groupby("rater", sort=True):
            kappa, _, n = _kappa(part, params.weights)
            auditors.append({"auditor": str(auditor), "n": n,
                             "kappa": None if np.isnan(kappa) else kappa,
                             "agreement": float((part["rating"] == part["rating_reference"]).mean())})
        agreement = float((pairs["rating"] == pairs["rating_reference"]).mean()) if len(pairs) else None
        return {"auditors": auditors, "observed_agreement": agreement, "weights": params.weights}


class PanelAgreementParams(AgreementParams):
    include_reference: bool = Field(True, description="Count the reference rater(s) as one more rater.")


def _panel(frame: pd.DataFrame, params: PanelAgreementParams) -> pd.DataFrame:
    rows = _ratings(frame, params)
    return rows if params.include_reference else rows.loc[~rows["reference"]]


@CALCULATORS.register("fleiss_kappa")
class FleissKappa(AgreementScale, Calculator):
    """Fleiss' kappa of all raters of each unit (nominal agreement, any number of raters)."""

    name = "fleiss_kappa"
    Params = PanelAgreementParams
    unit = "ratio"
    direction = "higher"
    estimate_kind = "statistic"
    formula = ("kappa = (P_bar - P_e) / (1 - P_e) over units rated by the most common number of "
               "raters (Fleiss 1971 needs the same number of raters per unit)")

    def _table(self, frame: pd.DataFrame, params: PanelAgreementParams) -> tuple[np.ndarray, int]:
        rows = _panel(frame, params)
        counts = pd.crosstab(rows["unit"], rows["rating"])
        raters = counts.sum(axis=1)
        if raters.empty:
            return np.zeros((0, 0)), 0
        # The most common panel size; ties go to the larger panel (more information per unit).
        modal = int(cast("SupportsInt", raters.value_counts().sort_index(ascending=False).idxmax()))
        kept = counts.loc[raters == modal]
        return kept.to_numpy(dtype=float), len(counts) - len(kept)

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Statistic:
        assert isinstance(params, PanelAgreementParams)
        table, _ = self._table(frame, params)
        if table.shape[0] == 0 or table.sum(axis=1)[0] < 2:
            return Statistic(None, 0)
        if table.shape[1] < 2:  # one category used by everyone: kappa undefined
            return Statistic(float("nan"), table.shape[0])

        units = agreement.fleiss_kappa_units(table)
        return Statistic(agreement.fleiss_kappa(table), table.shape[0], bootstrap_name(),
                         lambda level: agreement.bootstrap_interval(
                             units, agreement.fleiss_kappa_of_totals, level))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, PanelAgreementParams)
        table, excluded = self._table(frame, params)
        raters = int(table.sum(axis=1)[0]) if table.shape[0] else 0
        return {"units": int(table.shape[0]), "units_excluded": excluded,
                "raters_per_unit": raters}


class AlphaParams(PanelAgreementParams):
    level: Literal["nominal", "ordinal", "interval", "ratio"] = Field(
        "ordinal", description="Level of measurement of the ratings.")


@CALCULATORS.register("krippendorff_alpha")
class KrippendorffAlpha(AgreementScale, Calculator):
    """Krippendorff's alpha over all raters and units; missing ratings allowed."""

    name = "krippendorff_alpha"
    Params = AlphaParams
    unit = "ratio"
    direction = "higher"
    estimate_kind = "statistic"
    # The body calls it by what it measures (a label such as "Auditor agreement"); the
    # methodology names the statistic.
    formula = ("Krippendorff's alpha = 1 - D_o / D_e with the {level} distance, over units "
               "with at least two ratings")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Statistic:
        assert isinstance(params, AlphaParams)
        rows = _panel(frame, params)
        if not _numeric(_levels(rows["rating"])):
            if params.level != "nominal":  # text labels have no order or distance to measure
                return Statistic(float("nan"), len(rows))
            rows = rows.assign(rating=pd.factorize(rows["rating"], sort=True)[0].astype(float))
        matrix = rows.pivot_table(index="rater", columns="unit", values="rating",
                                  aggfunc="first")
        pairable = int((matrix.notna().sum(axis=0) >= 2).sum())
        if pairable == 0:
            return Statistic(None, 0)
        values = matrix.to_numpy(dtype=float)
        if len(np.unique(values[~np.isnan(values)])) < 2:
            return Statistic(float("nan"), pairable)  # one value only: no expected disagreement
        values = values[:, matrix.notna().sum(axis=0).to_numpy() >= 2]  # pairable units only
        domain = np.unique(values[~np.isnan(values)])
        level = params.level

        units = agreement.krippendorff_units(values, domain)
        return Statistic(agreement.krippendorff_alpha(values, level, domain), pairable, bootstrap_name(),
                         lambda conf: agreement.bootstrap_interval(
                             units, lambda totals: agreement.krippendorff_of_totals(
                                 totals, level, domain), conf))


class GwetParams(PanelAgreementParams):
    weights: Literal["none", "linear", "quadratic"] = Field(
        "none", description="Agreement weights: none gives AC1 (nominal); linear or quadratic "
                            "give AC2 for ordinal numeric scales.")
    categories: list[float] | list[str] | None = Field(
        None, min_length=2,
        description="The rating scale's categories, e.g. [1, 2, 3, 4]: chance agreement is "
                    "taken over all of them, as irrCAC's categ.labels, so a panel agreeing "
                    "on one category reads 1.0. Default: the categories the ratings use.")


@CALCULATORS.register("gwet_ac1")
class GwetAc1(AgreementScale, Calculator):
    """Gwet's AC1 (AC2 when weighted) over all raters of each unit; any number of raters.

    Unlike kappa, AC1 does not collapse when almost every rating falls in one category (the
    usual state of a calibrated QA team), which is why it is offered beside kappa.
    """

    name = "gwet_ac1"
    Params = GwetParams
    unit = "ratio"
    direction = "higher"
    estimate_kind = "statistic"
    formula = ("AC = (p_a - p_e) / (1 - p_e), p_e = T_w / (q (q - 1)) x sum pi_k (1 - pi_k) "
               "over units with two or more ratings ({weights} weights; Gwet 2008, 2014); "
               "interval from Gwet's linearised standard error")

    def table(self, frame: pd.DataFrame, params: GwetParams) -> tuple[np.ndarray, list[Any]]:
        rows = _panel(frame, params)
        counts = pd.crosstab(rows["unit"], rows["rating"])
        if params.categories is not None:
            declared = list(params.categories)
            if _numeric(declared):
                counts.columns = [float(c) for c in counts.columns]
            # a rating off the declared scale is kept: dropping it would hide a data error
            counts = counts.reindex(columns=list(dict.fromkeys([*declared, *counts.columns])),
                                    fill_value=0)
        return counts.to_numpy(dtype=float), [c for c in counts.columns]

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Statistic:
        assert isinstance(params, GwetParams)
        table, levels = self.table(frame, params)
        if table.shape[0] == 0 or not (table.sum(axis=1) >= 2).any():
            return Statistic(None, 0)
        if params.weights != "none" and not _numeric(levels):
            return Statistic(float("nan"), table.shape[0])  # text labels have no distance
        weights = agreement.agreement_weights(levels, params.weights)
        result = agreement.gwet_ac(table, weights)
        return Statistic(result.value, result.units, "t (Gwet's linearised SE)",
                         lambda level: result.interval(level))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, GwetParams)
        table, levels = self.table(frame, params)
        if table.shape[0] == 0 or (params.weights != "none" and not _numeric(levels)):
            return {"weights": params.weights}
        result = agreement.gwet_ac(table, agreement.agreement_weights(levels, params.weights))
        return {"weights": params.weights, "observed_agreement": result.agreement,
                "chance_agreement": result.chance, "se": result.se}


IccName = Literal["ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"]


class IccParams(PanelAgreementParams):
    item_columns: list[str] = Field(default_factory=lambda: ["ticket_id"], description="Columns identifying the rated item within a session.")
    rating_column: str = Field("review_score", description="Column holding the numeric score.")
    form: IccName = Field("ICC(2,1)", description="Shrout-Fleiss form: 1 = one-way random, 2 = two-way random (absolute agreement), 3 = two-way mixed (consistency); 1 = single rater, k = mean of the k raters.")
    min_rater_share: float = Field(0.8, gt=0, le=1, description="Raters who scored fewer than this share of the units are left out, so one absentee does not empty the table.")


def _icc_matrix(frame: pd.DataFrame, params: IccParams) -> tuple[pd.DataFrame, int]:
    """The complete units x raters matrix the ICC needs, and the units dropped to get it."""
    rows = _panel(frame, params)
    matrix = rows.pivot_table(index="unit", columns="rater", values="rating", aggfunc="mean")
    if matrix.empty:
        return matrix, 0
    share = matrix.notna().mean(axis=0)
    matrix = matrix.loc[:, share >= params.min_rater_share]
    complete = matrix.dropna(axis=0, how="any")
    return complete, len(matrix) - len(complete)


@CALCULATORS.register("icc")
class Icc(AgreementScale, Calculator):
    """Intraclass correlation (Shrout & Fleiss 1979) of the raters' numeric scores."""

    name = "icc"
    Params = IccParams
    unit = "ratio"
    direction = "higher"
    estimate_kind = "statistic"
    formula = ("{form} from the two-way ANOVA mean squares of the complete units x raters table "
               "(Shrout & Fleiss 1979); F-based interval (McGraw & Wong 1996)")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Statistic:
        assert isinstance(params, IccParams)
        matrix, _ = _icc_matrix(frame, params)
        if matrix.shape[0] < 2 or matrix.shape[1] < 2:
            return Statistic(None, 0)
        values = matrix.to_numpy(dtype=float)
        form = _FORMS[params.form]
        result = agreement.icc(values, form)
        return Statistic(result.value, matrix.shape[0], "F distribution (McGraw & Wong)",
                         lambda level: _bounds(agreement.icc(values, form, level)))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, IccParams)
        matrix, dropped = _icc_matrix(frame, params)
        out: dict[str, Any] = {"form": params.form, "units": int(matrix.shape[0]),
                               "raters": [str(r) for r in matrix.columns], "units_dropped": dropped}
        if matrix.shape[0] >= 2 and matrix.shape[1] >= 2:
            result = agreement.icc(matrix.to_numpy(dtype=float), _FORMS[params.form])
            out |= {"f": result.f, "df1": result.df1, "df2": result.df2, "p_value": result.p_value}
        return out


_FORMS: Mapping[str, agreement.IccForm] = {
    "ICC(1,1)": "ICC1", "ICC(2,1)": "ICC2", "ICC(3,1)": "ICC3",
    "ICC(1,k)": "ICC1k", "ICC(2,k)": "ICC2k", "ICC(3,k)": "ICC3k",
}


def _bounds(result: agreement.IccResult) -> tuple[float, float] | None:
    if np.isnan(result.low) or np.isnan(result.high):
        return None
    return result.low, result.high
