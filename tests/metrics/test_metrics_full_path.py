"""Every calculator with every documented parameter combination, through the whole path:
a definition reading the demo tables from a CSV source and from a Parquet source, the
statement, the estimate and the tile's text.  Calling ``estimate`` on a frame skips the
column contract, the exclusion counts and the SQL; this does not."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from support.paths import REPO

from reportgen.metrics import CALCULATORS
from reportgen.period import Period

DOCS = REPO / "docs" / "metrics.md"
END = date(2026, 3, 1)
#: the documented examples' source names -> (demo table, its time column)
TABLES = {
    "csat": ("csat_responses", "responded_at"), "responses": ("csat_responses", "responded_at"),
    "survey_tickets": ("survey_tickets", "solved_at"), "qa": ("qa_review_ratings", "reviewed_at"),
    "calibration_reviews": ("calibration_reviews", "session_date"),
    "calibration_scores": ("calibration_scores", "session_date"),
    "tickets": ("tickets", "created_at"), "moderation": ("moderation_decisions", "decided_at"),
    "disputes": ("qa_disputes", "raised_at"), "auto_scores": ("qa_auto_scores", "reviewed_at"),
    "zendesk_qa": ("review_scores", "reviewed_at"),
    "qa_with_outcomes": ("qa_with_outcomes", "reviewed_at"),
    "audit_population": ("audit_population", "created_at"),
}
#: the optional parameters the documentation describes beyond its examples: (source or None
#: for the example's, params); a QA tool's export has one row per review and no scorecard
VARIANTS: dict[str, list[tuple[str | None, dict[str, Any]]]] = {
    "qa_score": [(None, {"cluster_column": "agent_id"})],
    "iqs": [("zendesk_qa", {"score_column": "review_score"}),
            (None, {"cluster_column": "agent_id"}),
            ("zendesk_qa", {"score_column": "review_score", "cluster_column": "agent_id"})],
    "pass_rate": [(None, {"cluster_column": "agent_id"}), (None, {"pass_from": 70})],
    "auto_fail_rate": [(None, {"cluster_column": "agent_id"})],
}
KINDS = ("csv", "parquet")
#: the demo's own tables (the others are made from them)
KEPT = {"csat_responses", "qa_review_ratings", "calibration_reviews", "calibration_scores",
        "tickets", "moderation_decisions", "qa_disputes", "qa_auto_scores"}


def documented_cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(calculator, source, params) of every documented example and variant."""
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^## `([a-z0-9_]+)`\s*$", text, flags=re.MULTILINE)
    cases = []
    for i in range(1, len(parts), 2):
        name, section = parts[i], parts[i + 1].split("\n---\n")[0]
        for block in re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL):
            for item in yaml.safe_load(block) or []:
                if isinstance(item, dict) and item.get("calculator") == name:
                    params = dict(item.get("params") or {})
                    cases.append((name, item["source"], params))
                    cases.extend((name, source or item["source"], {**params, **variant})
                                 for source, variant in VARIANTS.get(name, []))
    return cases


def review_scores(ratings: pd.DataFrame) -> pd.Series:
    """Each review's weighted scorecard score (0-100), as a QA tool's export carries it."""
    rated = ratings.dropna(subset=["rating"])
    score = (rated["rating"] - rated["scale_min"]) / (rated["scale_max"] - rated["scale_min"]) * 100
    weighted = (score * rated["weight"]).groupby(rated["review_id"]).sum()
    return weighted / rated["weight"].groupby(rated["review_id"]).sum()


def audit_population(tickets: pd.DataFrame, reviews: pd.DataFrame, ratings: pd.DataFrame,
                     responses: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Every ticket with its audit status, as the audit sample joined onto the tickets reads:
    reviewed tickets were audited (passed at a score of 80), and a seeded few of the others
    were drawn and skipped or replaced; CSAT from the ticket's survey answer."""
    score = reviews.assign(score=reviews["review_id"].map(review_scores(ratings)))
    passed = score.groupby("ticket_id")["score"].first().ge(80).astype(int)
    status = np.where(tickets["ticket_id"].isin(passed.index), "audited", None).astype(object)
    drawn = pd.isna(status) & (rng.random(len(tickets)) < 0.03)
    status[drawn] = rng.choice(["skipped", "replaced"], int(drawn.sum()))
    csat = responses.groupby("ticket_id")["rating"].first()
    return tickets.assign(review_status=status, passed=tickets["ticket_id"].map(passed),
                          csat=tickets["ticket_id"].map(csat))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, pd.DataFrame]]:
    from reportgen.demo import generate_demo_data
    from reportgen.plan import load_definition
    from reportgen.run.build import build_report

    root = tmp_path_factory.mktemp("full-path")
    generate_demo_data(root / "demo", seed=11, end_month=END, months=2)
    frames = {name: pd.read_csv(root / "demo" / f"{name}.csv")
              for name, _ in set(TABLES.values()) if name in KEPT}
    responses = frames["csat_responses"][["ticket_id", "response_id"]]
    frames["survey_tickets"] = frames["tickets"].merge(responses, on="ticket_id", how="left")
    qa = frames["qa_review_ratings"]
    exported = qa.drop_duplicates("review_id")[["review_id", "reviewed_at", "agent_id"]]
    frames["review_scores"] = exported.assign(
        review_score=exported["review_id"].map(review_scores(qa)))
    # each review's ticket outcomes, joined on as a warehouse view would (seeded, no effect)
    rng = np.random.default_rng(11)
    reviews = qa["review_id"].unique()
    frames["qa_with_outcomes"] = qa.merge(pd.DataFrame({
        "review_id": reviews, "csat": rng.integers(1, 6, len(reviews)),
        "recontacted_7d": rng.integers(0, 2, len(reviews)),
        "overturned": rng.integers(0, 2, len(reviews))}), on="review_id")
    frames["audit_population"] = audit_population(
        frames["tickets"], pd.read_csv(root / "demo" / "qa_reviews.csv"), qa,
        frames["csat_responses"], rng)
    decisions = frames["moderation_decisions"]  # a market per decision, as a T&S export has
    decisions["language"] = rng.choice(["en", "de", "es"], len(decisions))
    sources, metrics = {}, []
    for kind in KINDS:
        for alias, (table, time_column) in TABLES.items():
            path = root / f"{table}.{kind}"
            if not path.exists():
                frame = frames[table]
                frame.to_csv(path, index=False) if kind == "csv" else frame.to_parquet(path)
            sources[f"{alias}_{kind}"] = {"kind": kind, "path": path.name,
                                          "time_column": time_column}
        for i, (name, source, params) in enumerate(documented_cases()):
            metrics.append({"id": f"{name}_{i}_{kind}", "calculator": name,
                            "source": f"{source}_{kind}", "params": params, "min_n": 5})
    definition = {"id": "every_calculator", "title": "Every calculator", "sources": sources,
                  "metrics": metrics, "period": {"grain": "month", "history": 2},
                  "sections": [{"id": "all", "title": "All",
                                "kpis": [m["id"] for m in metrics]}],
                  "outputs": [{"format": "pdf"}]}
    path = root / "report.yaml"
    path.write_text(yaml.safe_dump(definition, sort_keys=False), encoding="utf-8")
    loaded = load_definition(path)
    result = build_report(loaded, Period(END, "month"), now=datetime(2026, 4, 2, tzinfo=UTC))
    return result.model, frames


def test_every_calculator_has_a_documented_case() -> None:
    assert {name for name, _, _ in documented_cases()} == set(CALCULATORS.names())


@pytest.mark.parametrize("case", range(len(documented_cases())),
                         ids=[f"{n}-{'-'.join(p) or 'defaults'}"
                              for n, _, p in documented_cases()])
def test_case_runs_from_csv_and_parquet_to_text(report: tuple[Any, Any], case: int) -> None:
    model, _ = report
    name, _, _ = documented_cases()[case]
    kpis = {k.metric.metric_id: k for section in model.sections for k in section.kpis}
    shown = [kpis[f"{name}_{case}_{kind}"] for kind in KINDS]
    for kpi in shown:
        assert kpi.metric.value is not None, (kpi.metric.metric_id, kpi.metric.suppressed)
        assert kpi.value_text and kpi.n_text
    csv_value, parquet_value = (kpi.metric.value for kpi in shown)
    assert csv_value == pytest.approx(parquet_value)
    assert shown[0].value_text == shown[1].value_text


def test_iqs_from_a_score_column_is_the_mean_review_score(report: tuple[Any, Any]) -> None:
    model, frames = report
    scores = frames["review_scores"]
    march = scores[scores["reviewed_at"].str.startswith("2026-03")]
    cases = documented_cases()
    for kind in KINDS:
        (case,) = [i for i, (n, _, p) in enumerate(cases)
                   if n == "iqs" and p == {"score_column": "review_score"}]
        kpi = next(k for s in model.sections for k in s.kpis
                   if k.metric.metric_id == f"iqs_{case}_{kind}")
        assert kpi.metric.value == pytest.approx(march["review_score"].mean())
        assert kpi.metric.n == march["review_score"].notna().sum()
