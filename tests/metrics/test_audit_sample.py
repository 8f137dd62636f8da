"""audit_sample: the audit sample's size per queue, its skips and its mix against the
population, each figure checked against statsmodels or scipy computed here on the same rows
(or a published example), and seeded simulations: a representative sample is flagged at about
alpha, a planted over-sample and a planted skip bias are found, and the reweighted pass rate
lands nearer the truth than the audits' own."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, samplesize_confint_proportion
from support.metric_frames import compute_metric
from support.plans import plan_of

from reportgen.cli import main
from reportgen.definition.document import Definition
from reportgen.errors import DefinitionError
from reportgen.insights.audit_sample import audit_sample_findings
from reportgen.insights.context import InsightContext
from reportgen.insights.text import plain_sentence
from reportgen.metrics import calculator
from reportgen.metrics.audit_items import items
from reportgen.metrics.audit_sample import mix_details, skip_details
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.stats import strata

SEP = Period(date(2026, 9, 1), "month", "UTC")
AUG = SEP.previous()
CHANNELS = ("chat", "email", "phone")
QUEUES = ("Billing", "Returns", "Shipping")
#: each channel's true pass rate: chat is handled worst, so a chat-heavy sample looks worse
PASS = np.array([0.70, 0.90, 0.85])
COMPARE = [{"column": "channel", "kind": "categorical"},
           {"column": "messages", "kind": "numeric", "label": "length", "higher": "longer",
            "lower": "shorter"},
           {"column": "csat", "kind": "numeric", "label": "CSAT", "test": "welch"}]


def population(seed: int, *, n: int = 3000, drawn: int = 400,
               shares: tuple[float, ...] = (0.3, 0.5, 0.2),
               queues: tuple[float, ...] = (0.2, 0.3, 0.5), oversample: float = 1.0,
               skip: float = 0.08, skip_long: float = 0.0,
               period: Period = SEP) -> tuple[pd.DataFrame, float]:
    """A period's tickets with the audit sample drawn from them, and the true pass rate of
    all of them (each ticket's outcome, had it been audited).

    Chat tickets are drawn ``oversample`` times as often as others; a drawn ticket is skipped
    or replaced with probability ``skip``, its log-odds rising by ``skip_long`` per standard
    deviation of its length (messages)."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(len(CHANNELS), n, p=shares)
    queue = rng.choice(QUEUES, n, p=queues)
    messages = rng.poisson(np.where(channel == 0, 12, 6)) + 1
    csat = rng.integers(1, 6, n)
    passed = (rng.random(n) < PASS[channel]).astype(float)
    weight = np.where(channel == 0, oversample, 1.0)
    chosen = rng.choice(n, drawn, replace=False, p=weight / weight.sum())
    odds = math.log(skip / (1 - skip)) + skip_long * (messages - messages.mean()) / messages.std()
    skipped = rng.random(drawn) < 1 / (1 + np.exp(-odds[chosen]))
    status = np.full(n, None, dtype=object)
    status[chosen] = np.where(skipped, rng.choice(["skipped", "Replaced "], drawn), "audited")
    frame = pd.DataFrame({
        "created_at": pd.Timestamp(period.start_at) + pd.to_timedelta(
            rng.random(n) * 86400 * 28, unit="s"),
        "queue": queue, "channel": np.array(CHANNELS)[channel], "messages": messages,
        "csat": csat, "review_status": status,
        "passed": np.where(status == "audited", passed, np.nan), PERIOD_COLUMN: period.key})
    return frame, float(passed.mean())


def _params(**values):
    return calculator("audit_sample").Params.model_validate({"compare": COMPARE, **values})


def _details(frame: pd.DataFrame, **values):
    return calculator("audit_sample").details(frame, _params(**values), None)


def _audited(frame: pd.DataFrame) -> pd.Series:
    return frame["review_status"].eq("audited")


def _skipped(frame: pd.DataFrame) -> pd.Series:
    return frame["review_status"].astype("string").str.strip().str.lower() \
        .isin(["skipped", "replaced"]).fillna(False).astype(bool)


# --- size ---------------------------------------------------------------------------------


def test_audits_needed_per_queue_are_statsmodels_sizes_with_the_finite_population_correction():
    frame, _ = population(1)
    details = _details(frame, half_width=0.05)
    z = sps.norm.ppf(0.975)
    n0 = samplesize_confint_proportion(0.5, 0.05, alpha=0.05)
    assert [g["group"] for g in details["size"]["groups"]] == list(QUEUES)
    for row in details["size"]["groups"]:
        mine = frame["queue"] == row["group"]
        big_n, audits = int(mine.sum()), int((mine & _audited(frame)).sum())
        assert (row["population"], row["audits"]) == (big_n, audits)
        assert row["required"] == math.ceil(n0 / (1 + (n0 - 1) / big_n))
        assert row["shortfall"] == max(row["required"] - audits, 0)
        assert row["half_width_achieved"] == pytest.approx(
            z * math.sqrt(0.25 / audits) * math.sqrt((big_n - audits) / (big_n - 1)))


def test_the_published_sample_sizes_for_small_populations():
    # +-5 points at 95% confidence, planned at p = 0.5: Krejcie & Morgan's (1970) table,
    # Educational and Psychological Measurement 30, p. 608, gives 80 of 100 and 278 of 1,000.
    for size, needed in ((100, 80), (1000, 278)):
        frame = pd.DataFrame({"review_status": ["audited"] * 10 + [None] * (size - 10),
                              "passed": [1.0] * 10 + [np.nan] * (size - 10),
                              "channel": "chat"})
        details = _details(frame, group_column=None, compare=[])
        assert details["size"]["overall"]["required"] == needed


def test_a_mean_is_sized_on_its_observed_spread_and_a_rate_on_the_observed_rate():
    frame, _ = population(2)
    rng = np.random.default_rng(2)
    frame["score"] = np.where(_audited(frame), rng.normal(82, 12, len(frame)), np.nan)
    details = _details(frame, kpi="mean", kpi_column="score", half_width=3.0,
                       kpi_label="QA score")
    sd = frame["score"].std(ddof=1)
    z = sps.norm.ppf(0.975)
    assert details["size"]["planning_value"] == pytest.approx(sd)
    for row in details["size"]["groups"]:
        big_n = row["population"]
        n0 = (z * sd / 3.0) ** 2
        assert row["required"] == math.ceil(n0 / (1 + (n0 - 1) / big_n))
        assert row["half_width_achieved"] == pytest.approx(
            z * sd / math.sqrt(row["audits"]) * math.sqrt((big_n - row["audits"]) / (big_n - 1)))
    observed = _details(frame, planning_rate="observed")["size"]
    rate = frame.loc[_audited(frame), "passed"].mean()
    assert observed["planning_value"] == pytest.approx(rate)
    n0 = samplesize_confint_proportion(rate, 0.05, alpha=0.05)
    billing = observed["groups"][0]
    assert billing["required"] == math.ceil(n0 / (1 + (n0 - 1) / billing["population"]))


# --- skips --------------------------------------------------------------------------------


def test_the_skip_share_is_a_wilson_interval_over_the_drawn_tickets():
    frame, _ = population(3)
    estimate = calculator("audit_sample").estimate(frame, _params())
    drawn = int(frame["review_status"].notna().sum())
    skipped = int(_skipped(frame).sum())
    assert (estimate.successes, estimate.trials) == (skipped, drawn)
    skips = _details(frame, confidence=0.9)["skips"]
    assert (skips["low"], skips["high"]) == pytest.approx(
        proportion_confint(skipped, drawn, alpha=0.1, method="wilson"))
    status = frame.loc[_skipped(frame), "review_status"].str.strip().str.lower()
    assert skips["by_status"] == status.value_counts().sort_index().to_dict()


def test_skipped_against_audited_is_scipy_per_column_and_holm_across_columns():
    frame, _ = population(4, skip_long=1.0)
    skips = _details(frame)["skips"]
    drawn = frame.loc[frame["review_status"].notna()]
    skipped = _skipped(drawn)
    table = pd.crosstab(drawn["channel"], skipped)
    expected = [
        sps.chi2_contingency(table.to_numpy(), correction=False).pvalue,
        sps.mannwhitneyu(drawn.loc[skipped, "messages"], drawn.loc[~skipped, "messages"],
                         alternative="two-sided").pvalue,
        sps.ttest_ind(drawn.loc[skipped, "csat"], drawn.loc[~skipped, "csat"],
                      equal_var=False).pvalue]
    rows = {r["column"]: r for r in skips["columns"]}
    assert [rows[c]["p_value"] for c in ("channel", "messages", "csat")] == pytest.approx(expected)
    adjusted = multipletests(expected, method="holm")[1]
    assert [rows[c]["p_adjusted"] for c in ("channel", "messages", "csat")] == pytest.approx(
        list(adjusted))
    length = rows["messages"]
    u = sps.mannwhitneyu(drawn.loc[skipped, "messages"], drawn.loc[~skipped, "messages"]).statistic
    assert length["superiority"] == pytest.approx(u / (skipped.sum() * (~skipped).sum()))
    assert length["differs"] and length["higher"]  # planted: long tickets are skipped
    assert rows["channel"]["most_over"] == "chat"  # chat tickets are the long ones


# --- mix ----------------------------------------------------------------------------------


def test_the_mix_test_is_the_goodness_of_fit_with_the_finite_population_correction():
    frame, _ = population(5, oversample=1.6)
    mix = _details(frame)["mix"]
    big_n = frame.groupby("channel").size()
    audited = frame.loc[_audited(frame)].groupby("channel").size().reindex(big_n.index)
    n, total = audited.sum(), big_n.sum()
    fit = sps.chisquare(audited, f_exp=n * big_n / total)
    corrected = fit.statistic * total / (total - n)
    assert mix["statistic"] == pytest.approx(corrected)
    assert mix["p_value"] == pytest.approx(sps.chi2.sf(corrected, len(big_n) - 1))
    fisher = [sps.fisher_exact([[a, n - a], [b - a, (total - n) - (b - a)]]).pvalue
              for a, b in zip(audited, big_n, strict=True)]
    assert [r["p_value"] for r in mix["strata"]] == pytest.approx(fisher)
    assert [r["p_adjusted"] for r in mix["strata"]] == pytest.approx(
        list(multipletests(fisher, method="holm")[1]))
    assert [r["stratum"] for r in mix["strata"] if r["over"]] == ["chat"]


def test_small_expected_counts_take_the_exact_null_by_simulation():
    # 12 tickets in three strata, 5 audited: expected counts of 2.5 and 1.25.  The exact
    # p-value sums the multivariate hypergeometric probabilities of every sample at least as
    # far from the population's mix (scipy); the calculator's 9,999 draws land within 0.015.
    totals, sampled = [6, 3, 3], [0, 3, 2]

    def pearson(draw):
        table = np.column_stack([draw, np.subtract(totals, draw)])
        return sps.chi2_contingency(table, correction=False).statistic

    observed = pearson(sampled)
    exact = sum(sps.multivariate_hypergeom.pmf(x=list(draw), m=totals, n=5)
                for draw in itertools.product(*(range(t + 1) for t in totals))
                if sum(draw) == 5 and pearson(draw) >= observed - 1e-9)
    found = strata.mix_test(sampled, totals)
    assert found is not None and found.method.startswith("Pearson chi-square, Monte Carlo")
    assert found.statistic == pytest.approx(observed)
    assert found.p_value == pytest.approx(exact, abs=0.015)


def _cell_means(values: pd.Series, stratum: pd.Series, sizes: pd.Series):
    """statsmodels' cell-means OLS with HC2 errors: each stratum's mean and s_h^2 / n_h."""
    data = pd.DataFrame({"y": values.to_numpy(float), "s": stratum.to_numpy()})
    fit = smf.ols("y ~ 0 + C(s)", data).fit(cov_type="HC2")
    names = [f"C(s)[{s}]" for s in sizes.index]
    return fit.params[names].to_numpy(), np.diag(fit.cov_params().loc[names, names].to_numpy())


def test_the_reweighted_rate_is_statsmodels_cell_means_weighted_to_the_population():
    frame, _ = population(6, oversample=2.0)
    mix = _details(frame)["mix"]
    audited = frame.loc[_audited(frame)]
    sizes = frame.groupby("channel").size()
    counts = audited.groupby("channel").size().reindex(sizes.index)
    means, variances = _cell_means(audited["passed"], audited["channel"], sizes)
    weights = (sizes / sizes.sum()).to_numpy()
    value = float(weights @ means)
    variance = float((weights**2 * (1 - counts / sizes).to_numpy() * variances).sum())
    effective = value * (1 - value) / variance
    reweighted = mix["reweighted"]
    assert reweighted["value"] == pytest.approx(value)
    assert reweighted["se"] == pytest.approx(math.sqrt(variance))
    assert (reweighted["low"], reweighted["high"]) == pytest.approx(
        proportion_confint(value * effective, effective, alpha=0.05, method="wilson"))
    assert reweighted["coverage"] == 1.0
    # unweighted: the audits as one simple random sample of all tickets
    p, n, total = audited["passed"].mean(), len(audited), len(frame)
    unweighted_var = (1 - n / total) * audited["passed"].var(ddof=1) / n
    effective = p * (1 - p) / unweighted_var
    assert mix["unweighted"]["value"] == pytest.approx(p)
    assert (mix["unweighted"]["low"], mix["unweighted"]["high"]) == pytest.approx(
        proportion_confint(p * effective, effective, alpha=0.05, method="wilson"))


def test_a_reweighted_mean_has_a_satterthwaite_t_interval_and_thin_strata_are_left_out():
    frame, _ = population(7, oversample=2.0, shares=(0.3, 0.69, 0.01))
    rng = np.random.default_rng(7)
    frame["score"] = np.where(_audited(frame), rng.normal(80, 10, len(frame)), np.nan)
    mix = _details(frame, kpi="mean", kpi_column="score", half_width=3.0)["mix"]
    audited = frame.loc[_audited(frame)]
    counts = audited.groupby("channel").size()
    kept = counts[counts >= 5].index
    assert mix["left_out"] == [c for c in CHANNELS if c not in kept] == ["phone"]
    sizes = frame.groupby("channel").size()[kept]
    part = audited.loc[audited["channel"].isin(kept)]
    means, variances = _cell_means(part["score"], part["channel"], sizes)
    weights = (sizes / sizes.sum()).to_numpy()
    pieces = weights**2 * (1 - counts[kept] / sizes).to_numpy() * variances
    df = pieces.sum() ** 2 / (pieces**2 / (counts[kept].to_numpy() - 1)).sum()
    half = sps.t.ppf(0.975, df) * math.sqrt(pieces.sum())
    reweighted = mix["reweighted"]
    assert reweighted["value"] == pytest.approx(weights @ means)
    assert reweighted["df"] == pytest.approx(df)
    assert (reweighted["low"], reweighted["high"]) == pytest.approx(
        (weights @ means - half, weights @ means + half))
    assert reweighted["coverage"] == pytest.approx(sizes.sum() / len(frame))


# --- seeded simulations -------------------------------------------------------------------


def _bound(trials: int, rate: float) -> float:
    """The share of flags a test at ``rate`` stays under in 99.9% of such simulations."""
    return sps.binom.ppf(0.999, trials, rate) / trials


def test_a_representative_sample_is_called_unrepresentative_at_about_alpha():
    params = _params()
    large = [mix_details(items(population(100 + s, n=2000, drawn=300)[0], params), params)
             for s in range(200)]
    flagged = sum(m["representative"] is False for m in large) / len(large)
    assert {m["method"] for m in large} == {"Pearson chi-square"}
    assert flagged <= _bound(200, 0.05)
    # 30 audits with a 10% stratum: it expects 3, so the exact null is simulated
    small = [mix_details(items(population(1000 + s, n=1000, drawn=34,
                                          shares=(0.45, 0.45, 0.10))[0], params), params)
             for s in range(150)]
    simulated = [m for m in small if m["tested"] and "Monte Carlo" in m["method"]]
    assert len(simulated) >= 140
    assert sum(m["representative"] is False for m in simulated) / len(simulated) <= _bound(
        len(simulated), 0.05)


def test_a_planted_over_sample_is_found_and_reweighting_moves_towards_the_truth():
    params = _params()
    found, named, errors, covered = 0, 0, [], 0
    for seed in range(150):
        frame, truth = population(2000 + seed, n=2000, drawn=300, oversample=2.5)
        mix = mix_details(items(frame, params), params)
        found += mix["representative"] is False
        named += [r["stratum"] for r in mix["strata"] if r["over"]] == ["chat"]
        reweighted, unweighted = mix["reweighted"], mix["unweighted"]
        errors.append((abs(reweighted["value"] - truth), abs(unweighted["value"] - truth)))
        covered += reweighted["low"] <= truth <= reweighted["high"]
    assert found / 150 >= 0.95 and named / 150 >= 0.9
    reweighted_error, unweighted_error = np.mean(errors, axis=0)
    assert reweighted_error < unweighted_error / 2  # chat fails most: the raw rate runs low
    assert covered / 150 >= 0.9  # nominal 95%


def test_a_planted_skip_bias_is_found_and_random_skips_are_not():
    params = _params()

    def differs(seed: int, skip_long: float) -> set[str]:
        frame, _ = population(seed, skip_long=skip_long)
        skips = skip_details(frame, items(frame, params), params)
        return {r["column"] for r in skips["columns"] if r["differs"]}

    planted = [differs(3000 + s, 1.0) for s in range(100)]
    assert sum("messages" in d for d in planted) / 100 >= 0.9
    null = [differs(4000 + s, 0.0) for s in range(200)]
    assert sum(bool(d) for d in null) / 200 <= _bound(200, 0.05)  # Holm: family-wise


# --- findings -----------------------------------------------------------------------------


def _definition(**params) -> Definition:
    metric = {"id": "audit", "calculator": "audit_sample", "source": "tickets",
              "label": "Skipped audits", "params": {"compare": COMPARE, **params}}
    return Definition.model_validate({
        "id": "audit-test", "title": "Audit sample", "period": {"grain": "month"},
        "sources": {"tickets": {"kind": "csv", "path": "unused.csv",
                                "time_column": "created_at"}},
        "metrics": [metric],
        "sections": [{"id": "audit", "title": "Audit sample", "kpis": ["audit"]}]})


def _findings(frame: pd.DataFrame, **params):
    definition = _definition(**params)
    result = compute_metric(definition.metrics[0], frame, SEP, [AUG, SEP],
                            definition.statistics)
    ctx = InsightContext.build(plan_of(definition), {"audit": result}, {"tickets": frame},
                               SEP, [AUG, SEP])
    return result, {f.kind: f for f in audit_sample_findings(ctx)}


def test_findings_name_the_short_queue_the_skip_bias_and_the_reweighted_rate():
    frame = pd.concat([population(8, period=AUG)[0],
                       population(9, queues=(0.1, 0.3, 0.6), oversample=2.5, skip_long=1.0)[0]],
                      ignore_index=True)
    result, found = _findings(frame, half_width=0.1)
    assert set(found) == {"audit_shortfall", "audit_skips", "audit_mix"}
    now = frame.loc[frame[PERIOD_COLUMN] == SEP.key]
    billing = now.loc[now["queue"] == "Billing"]
    audits = int(_audited(billing).sum())
    n0 = samplesize_confint_proportion(0.5, 0.1, alpha=0.05)
    needed = math.ceil(n0 / (1 + (n0 - 1) / len(billing)))
    size = found["audit_shortfall"].sentence
    assert size.startswith(f"Billing was audited {audits} times in September 2026; {needed} "
                           f"audits are needed for its pass rate within ±10 points at 95% "
                           f"confidence (of its {len(billing)} tickets")
    skips = found["audit_skips"]
    assert "Skipped tickets are more often Chat" in skips.sentence
    assert "and are longer than audited ones (median" in skips.sentence
    assert skips.numbers["significant"] and skips.tone == "bad"
    mix = found["audit_mix"]
    assert mix.sentence.startswith("The audited sample over-represents Chat (")
    details = result.details["mix"]
    shown = f"{details['reweighted']['value']:.1%}"
    assert f"Reweighted to all tickets' mix, the pass rate is {shown} (95% CI" in mix.sentence
    assert f"against the {details['unweighted']['value']:.1%} the audits show." in mix.sentence
    for finding in found.values():  # the director reads no test results: they go to notes
        body, _ = plain_sentence(finding.sentence, finding.numbers.get("significant"))
        assert "p =" not in body and "p <" not in body


def test_findings_without_a_named_stratum_or_words_for_a_column_still_read_plainly():
    frame = pd.concat([population(22, period=AUG)[0],
                       population(23, oversample=2.5, skip_long=1.0)[0]], ignore_index=True)
    frame["length"] = frame["messages"]
    definition = _definition(compare=[{"column": "length", "kind": "numeric"}])
    result = compute_metric(definition.metrics[0], frame, SEP, [AUG, SEP],
                            definition.statistics)
    mix = result.details["mix"]
    for row in mix["strata"]:  # as when the overall test rejects and no stratum does alone
        row["over"] = row["under"] = False
    ctx = InsightContext.build(plan_of(definition), {"audit": result}, {"tickets": frame},
                               SEP, [AUG, SEP])
    found = {f.kind: f for f in audit_sample_findings(ctx)}
    body, note = plain_sentence(found["audit_mix"].sentence, True)
    assert body.startswith("The audited sample's mix of channel differs from all tickets' in "
                           "September 2026, most for Chat: ")
    assert "p =" not in body and "p <" not in body and note.startswith("p ")
    body, _ = plain_sentence(found["audit_skips"].sentence, True)
    assert "Skipped tickets have higher length than audited ones (median " in body


def test_a_sound_sample_reads_as_sound():
    frame = pd.concat([population(10, period=AUG)[0], population(11, drawn=1200)[0]],
                      ignore_index=True)
    _, found = _findings(frame, half_width=0.1)
    assert found["audit_shortfall"].sentence.startswith(
        "Every queue was audited often enough in September 2026 for the pass rate within ±10 "
        "points at 95% confidence (3 queues; the closest: ")
    assert found["audit_shortfall"].tone == "good"
    assert "Skipped tickets look like audited ones in channel, length and CSAT" in \
        found["audit_skips"].sentence
    assert found["audit_mix"].sentence.startswith(
        "The audited tickets match all tickets' mix of channel in September 2026")


# --- hostile and thin data ----------------------------------------------------------------


def test_a_period_without_tickets_is_no_data_and_says_nothing():
    result, found = _findings(population(12, period=AUG)[0])
    assert result.value is None and result.suppressed == "no data for September 2026"
    assert found == {}


def test_every_drawn_ticket_skipped_is_said_plainly():
    frame = pd.concat([population(13, period=AUG)[0], population(14, drawn=40, skip=0.9999)[0]],
                      ignore_index=True)
    result, found = _findings(frame)
    assert result.value == 1.0
    assert found["audit_skips"].sentence == (
        "All 40 tickets drawn for audit in September 2026 were skipped or replaced: none was "
        "audited.")
    assert "audit_mix" not in found  # nothing audited: no mix to compare
    assert found["audit_shortfall"].sentence.startswith("All 3 queues were audited too few")


def test_too_few_skips_or_audits_say_not_enough_data():
    frame = pd.concat([population(15, period=AUG)[0], population(16, drawn=30, skip=0.02)[0]],
                      ignore_index=True)
    details = _details(frame.loc[frame[PERIOD_COLUMN] == SEP.key])
    assert details["skips"]["reason"] == "too few items skipped"
    _, found = _findings(frame)
    assert "too few to tell whether skipped tickets differ from audited ones (fewer than 5)" \
        in found["audit_skips"].sentence
    one = population(17, drawn=1, skip=0.0001)[0]
    assert _details(one)["mix"]["reason"] == "too few items audited"
    blank = population(18)[0].assign(channel=None)  # one stratum: nothing to compare
    assert _details(blank)["mix"]["reason"] == "one stratum only"


def test_a_built_report_counts_unknown_statuses_and_states_findings_plainly(
        tmp_path: Path, write_definition):
    frame = pd.concat([population(19, period=AUG)[0],
                       population(20, oversample=2.5, skip_long=1.0)[0]], ignore_index=True)
    frame.loc[frame.index[:7], "review_status"] = "pending"
    frame.loc[frame.index[-5:], "review_status"] = "in review"
    frame.drop(columns=[PERIOD_COLUMN]).to_csv(tmp_path / "tickets.csv", index=False)
    path = write_definition(DEFINITION)
    from reportgen.run.build import build_report

    model = build_report(load_definition(path), SEP, now=datetime(2026, 10, 2, tzinfo=UTC)).model
    result = model.metrics["audit"]
    assert [(i.reason, i.count) for i in result.left_out] == [("unknown_status", 5)]
    assert ("Metric 'Skipped audits': 5 'review_status' values other than audited, skipped or "
            "replaced (not read as drawn) left out.") in model.provenance.data_quality
    september = frame.loc[frame[PERIOD_COLUMN] == SEP.key].iloc[:-5]
    assert result.denominator == september["review_status"].notna().sum()
    shown = {f.kind: f for s in model.sections for f in s.findings}
    assert set(shown) == {"audit_shortfall", "audit_skips", "audit_mix"}
    for kind in ("audit_skips", "audit_mix"):  # a difference between groups, not a change
        sentence = shown[kind].sentence
        # the words close the sentence that was tested, not the sentence after it
        assert ": more than chance would explain." in sentence and "p <" not in sentence
        assert not sentence.endswith(": more than chance would explain.")
        assert shown[kind].note and "p < 0.001" in model.stat_notes[shown[kind].note - 1].detail
    assert shown["audit_mix"].sentence.startswith("The audited sample over-represents Chat (")


DEFINITION = """
    id: audit
    title: Audit sample
    sources:
      tickets: {kind: csv, path: tickets.csv, time_column: created_at}
    metrics:
      - id: audit
        label: Skipped audits
        calculator: audit_sample
        source: tickets
        params:
          half_width: 0.1
          compare:
            - {column: channel, kind: categorical}
            - {column: messages, kind: numeric, label: length, higher: longer, lower: shorter}
    sections:
      - {id: audit, title: Audit sample, kpis: [audit]}
    """


def test_a_column_the_data_lacks_is_a_located_error(tmp_path: Path, write_definition, capsys):
    population(21)[0].drop(columns=["messages", PERIOD_COLUMN]).to_csv(
        tmp_path / "tickets.csv", index=False)
    path = write_definition(DEFINITION)
    status = main(["run", str(path), "--period", "2026-09", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert f"{path}:" in err and "missing column 'messages'" in err


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("half_width: 0.1", "half_width: 0.1\n          strat: [channel]",
     "params.strat: unknown key 'strat'; did you mean 'strata'?"),
    ("kind: categorical}", "kind: category}", "'categorical' or 'numeric'"),
    ("half_width: 0.1", "half_width: 5",
     "a rate's 'half_width' is a fraction (0.05 = +-5 points), found 5"),
    ("kind: categorical}", "kind: categorical, test: welch}",
     "'channel' is categorical: 'test', 'higher' and 'lower' apply to numeric columns only"),
])
def test_wrong_params_are_located(write_definition, old, new, expected):
    path = write_definition(DEFINITION.replace(old, new, 1))
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    problems = [str(p) for p in info.value.problems]
    assert any(expected in p and p.startswith(f"{path}:") and "metrics[0].params" in p
               for p in problems), problems
