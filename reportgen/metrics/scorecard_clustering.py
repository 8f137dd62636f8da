"""QA audits grouped by agent: the params that declare the cluster, the per-cluster sums, and
the mean-score and rate calculators that allow for the grouping.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, model_validator

from reportgen.metrics.base import CalculatorParams
from reportgen.metrics.clustered_estimates import ClusteredMean, ClusteredProportion
from reportgen.metrics.estimates import Mean, Proportion, mean_from, proportion_from
from reportgen.metrics.scorecard import ScorecardCalculator, ScorecardParams
from reportgen.report.model.metric_results import Scale

if TYPE_CHECKING:
    import pandas as pd
    from pandas.core.groupby import DataFrameGroupBy

    from reportgen.data.aggregates import Aggregation, Measure
    from reportgen.metrics.estimates import Estimate
    from reportgen.period import Period


#: builds a value's statistics over review rows: e.g. n, mean and variance, or n, sum, sumsq
StatsOf = Callable[["Measure"], Mapping[str, "Measure"]]

#: the column a source declares for the audited agent; QA rates and scores cluster by it
AGENT_COLUMN = "agent_id"


class ClusteredParams(ScorecardParams):
    column_fields: ClassVar[tuple[str, ...]] = (*ScorecardParams.column_fields, "cluster_column")
    cluster_column: str | None = Field(
        None, description="Column naming the cluster an audit belongs to (the audited agent): "
                          "the interval and change test then allow for audits of one agent "
                          "resembling each other (cluster-robust design effect). Defaults to "
                          "agent_id when the source's columns declare it.")
    unclustered_because: str | None = Field(
        None, min_length=3,
        description="Turns the default clustering by agent off, saying why (e.g. 'each agent "
                    "is audited once a month'); the methodology quotes it.")

    @model_validator(mode="after")
    def _off_says_why(self) -> ClusteredParams:
        if self.cluster_column is not None and self.unclustered_because is not None:
            raise ValueError("set either 'cluster_column' or 'unclustered_because', not both")
        if ("cluster_column" in self.model_fields_set and self.cluster_column is None
                and self.unclustered_because is None):
            raise ValueError("audits are clustered by agent by default; to turn it off, say "
                             "why in 'unclustered_because' instead of 'cluster_column: null'")
        return self


def clustering_text(params: ClusteredParams) -> str:
    """How the interval treats the audits, for the methodology."""
    if params.cluster_column is not None:
        return f"; clustered by {params.cluster_column}"
    if params.unclustered_because is not None:
        return f"; not clustered: {params.unclustered_because}"
    return ""


def clustered_by_default(params: CalculatorParams, declared: Collection[str]) -> CalculatorParams:
    """``params`` clustered by the source's declared agent column unless they say otherwise."""
    assert isinstance(params, ClusteredParams)
    if (params.cluster_column is None and params.unclustered_because is None
            and AGENT_COLUMN in declared):
        return params.model_copy(update={"cluster_column": AGENT_COLUMN})
    return params


def mean_stats_of(value: Measure) -> Mapping[str, Measure]:
    from reportgen.data.aggregates import mean_aggregation

    return mean_aggregation(value).measures


def cluster_sums_of(value: Measure) -> Mapping[str, Measure]:
    import sqlalchemy as sa

    return {"n": lambda cols: sa.func.count(value(cols)),
            "sum": lambda cols: sa.func.sum(value(cols)),
            "sumsq": lambda cols: sa.func.sum(value(cols) * value(cols))}


def _clusters(frame: pd.DataFrame, params: ClusteredParams) -> pd.Series:
    """Each row's cluster: its agent, or its review when no agent column is set; audits
    with no agent recorded are each their own cluster (the most honest choice: merging
    them would invent a grouping)."""
    reviews = frame[params.review_column]
    if params.cluster_column is None:
        return reviews.astype(object)
    column = frame[params.cluster_column]
    return column.astype(object).where(column.notna(), "\0" + reviews.astype(str))


def cluster_sums_by_group(groups: DataFrameGroupBy, params: ClusteredParams,
                          aggregation: Aggregation) -> dict[Any, list[Mapping[str, Any]]]:
    """Each group's per-cluster aggregates, in cluster order, from one statement grouped by
    group and cluster together (what ``aggregate_by`` over each group's rows gives, for
    every group at once)."""
    import numpy as np
    import pandas as pd

    from reportgen.data.frames import aggregate_by

    frame = groups.obj
    assert isinstance(frame, pd.DataFrame)
    keys = list(groups.size().index)
    group_codes = groups.ngroup().to_numpy()
    cluster_codes, clusters = pd.factorize(_clusters(frame, params), sort=True)
    width = max(len(clusters), 1)
    known = (group_codes >= 0) & (cluster_codes >= 0)
    combined = pd.arrays.IntegerArray(
        np.where(known, group_codes.astype(np.int64) * width + cluster_codes, 0), ~known)
    out: dict[Any, list[Mapping[str, Any]]] = {key: [] for key in keys}
    values = aggregate_by(frame, pd.Series(combined, index=frame.index), aggregation)
    for code, value in values.items():
        out[keys[int(code) // width]].append(value)
    return out


def _proportion_of(clusters: list[Mapping[str, Any]]) -> ClusteredProportion:
    sums = [(float(v.get("successes") or 0), float(v["trials"]))
            for v in clusters if v.get("trials")]
    return ClusteredProportion(
        sum(s for s, _ in sums), sum(t for _, t in sums),
        cluster_successes=tuple(s for s, _ in sums), cluster_trials=tuple(t for _, t in sums))


def _mean_of(clusters: list[Mapping[str, Any]]) -> Mean:
    sums = [v for v in clusters if v.get("n")]
    return ClusteredMean.of_clusters(tuple(float(v["n"]) for v in sums),
                                     tuple(float(v["sum"]) for v in sums),
                                     tuple(float(v["sumsq"]) for v in sums))


def clustered_proportion(frame: pd.DataFrame, params: ClusteredParams,
                         aggregation: Aggregation) -> ClusteredProportion:
    """A share whose sums come per cluster from one grouped statement over the rows."""
    from reportgen.data.frames import aggregate_by

    return _proportion_of(list(aggregate_by(frame, _clusters(frame, params),
                                            aggregation).values()))


def clustered_proportions(groups: DataFrameGroupBy, params: ClusteredParams,
                          aggregation: Aggregation) -> dict[Any, Estimate]:
    """``clustered_proportion`` of each group, from one statement."""
    return {key: _proportion_of(clusters)
            for key, clusters in cluster_sums_by_group(groups, params, aggregation).items()}


class ClusteredMeanScore(ScorecardCalculator):
    """A mean of one value per review that can be clustered by agent (``cluster_column``).

    Unclustered, the aggregates run where the data lives.  Clustered, the rows are read and
    each cluster's count, sum and sum of squares come from one query over them, for the
    cluster-robust variance of the mean.
    """

    unit = "score"
    direction = "higher"
    estimate_kind = "mean"

    def scale_for(self, params: CalculatorParams) -> Scale:
        return Scale(0, 100)

    def for_source(self, params: CalculatorParams, declared: Collection[str]) -> CalculatorParams:
        return clustered_by_default(params, declared)

    def describe(self, params: CalculatorParams) -> str:
        assert isinstance(params, ClusteredParams)
        return super().describe(params) + clustering_text(params)

    def value_aggregation(self, params: ClusteredParams, stats_of: StatsOf) -> Aggregation:
        """The review-level aggregation of the calculator's value, summarised by ``stats_of``."""
        raise NotImplementedError

    def aggregation(self, params: CalculatorParams) -> Aggregation | None:
        assert isinstance(params, ClusteredParams)
        return None if params.cluster_column else self.value_aggregation(params, mean_stats_of)

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Mean:
        return mean_from(values)

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Mean:
        assert isinstance(params, ClusteredParams)
        from reportgen.data.frames import aggregate_by, aggregate_frame

        if params.cluster_column is None:
            return mean_from(aggregate_frame(frame, self.value_aggregation(params,
                                                                          mean_stats_of)))
        return _mean_of(list(aggregate_by(frame, _clusters(frame, params),
                                          self.value_aggregation(params,
                                                                 cluster_sums_of)).values()))

    def estimate_groups(self, groups: DataFrameGroupBy, params: CalculatorParams,
                        period: Period) -> dict[Any, Estimate]:
        assert isinstance(params, ClusteredParams)
        if params.cluster_column is None:
            return super().estimate_groups(groups, params, period)
        return {key: _mean_of(clusters) for key, clusters in cluster_sums_by_group(
            groups, params, self.value_aggregation(params, cluster_sums_of)).items()}


class ClusteredRate(ScorecardCalculator):
    """A share of reviews that can be clustered by agent (``cluster_column``).

    Unclustered, the aggregates run where the data lives.  Clustered, the period's rows are
    read and one statement grouped by cluster gives each cluster's sums, which the design
    effect needs (the data layer reduces to one unit level only: the review).
    """

    def review_aggregation(self, params: ClusteredParams) -> Aggregation:
        raise NotImplementedError

    def aggregation(self, params: CalculatorParams) -> Aggregation | None:
        assert isinstance(params, ClusteredParams)
        return None if params.cluster_column else self.review_aggregation(params)

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Proportion:
        return proportion_from(values)

    def for_source(self, params: CalculatorParams, declared: Collection[str]) -> CalculatorParams:
        return clustered_by_default(params, declared)

    def describe(self, params: CalculatorParams) -> str:
        assert isinstance(params, ClusteredParams)
        return super().describe(params) + clustering_text(params)

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, ClusteredParams)
        from reportgen.data.frames import aggregate_frame

        aggregation = self.review_aggregation(params)
        if params.cluster_column is None:
            return proportion_from(aggregate_frame(frame, aggregation))
        return clustered_proportion(frame, params, aggregation)

    def estimate_groups(self, groups: DataFrameGroupBy, params: CalculatorParams,
                        period: Period) -> dict[Any, Estimate]:
        assert isinstance(params, ClusteredParams)
        if params.cluster_column is None:
            return super().estimate_groups(groups, params, period)
        return clustered_proportions(groups, params, self.review_aggregation(params))
