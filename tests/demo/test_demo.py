"""The seeded demo-data generator: contract, integrity and the planted stories."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.demo import DemoDataset, Story, generate_demo_data
from reportgen.demo.writer import atomic_path
from reportgen.errors import PeriodError

END = date(2026, 10, 1)
START = "2025-10-01 00:00:00"  # 13 months ending with END
SNAPSHOT = "2026-11-01 00:00:00"

# The contract report definitions are written against.
COLUMNS = {
    "tickets": [
        "ticket_id", "created_at", "solved_at", "status", "queue", "channel", "site",
        "agent_id", "agent_name", "customer_name", "customer_email", "contact_reason",
        "priority", "first_response_minutes", "sla_target_minutes", "sla_met",
        "resolution_hours", "handle_minutes", "agent_replies", "reopened", "escalated",
        "survey_sent",
    ],
    "csat_responses": [
        "response_id", "ticket_id", "responded_at", "queue", "channel", "site", "agent_id",
        "rating", "nps_score", "effort_score", "comment",
    ],
    "qa_reviews": [
        "review_id", "ticket_id", "reviewed_at", "auditor_id", "agent_id", "queue", "channel",
        "scorecard",
    ],
    "qa_ratings": [
        "review_id", "category", "weight", "critical", "rating", "scale_min", "scale_max",
    ],
    "qa_review_ratings": [
        "review_id", "category", "weight", "critical", "rating", "scale_min", "scale_max",
        "reviewed_at", "auditor_id", "agent_id", "queue", "channel",
    ],
    "calibration_scores": [
        "session_id", "session_date", "ticket_id", "rater_id", "role", "category", "rating",
    ],
    "calibration_reviews": [
        "session_id", "session_date", "ticket_id", "rater_id", "role", "review_score",
    ],
    "moderation_decisions": [
        "decision_id", "decided_at", "policy_area", "moderator_id", "action", "gold_action",
        "appealed", "appeal_outcome", "overturned", "language",
    ],
    "qa_disputes": [
        "dispute_id", "review_id", "raised_at", "resolved_at", "auditor_id", "agent_id", "queue",
        "category", "outcome", "accepted", "days_to_resolve",
    ],
    "qa_auto_scores": [
        "review_id", "reviewed_at", "agent_id", "queue", "category", "human_rating",
        "auto_rating",
    ],
    "qa_sample": ["ticket_id", "drawn_at", "review_status", "review_id"],
    "qa_auto_only": [
        "ticket_id", "scored_at", "agent_id", "queue", "category", "auto_rating", "confirmed_by",
    ],
    "ticket_followups": ["ticket_id", "solved_at", "recontacted_7d"],
    "contact_archive": ["contact_id", "month", "queue", "contact_reason"],
    "qa_auto_checks": ["ticket_id", "category", "checked_at", "checked_by", "human_rating"],
    "ticket_languages": ["ticket_id", "language"],
}
TIMESTAMPS = {
    "tickets": ["created_at", "solved_at"],
    "csat_responses": ["responded_at"],
    "qa_reviews": ["reviewed_at"],
    "qa_review_ratings": ["reviewed_at"],
    "moderation_decisions": ["decided_at"],
    "qa_sample": ["drawn_at"],
    "qa_auto_only": ["scored_at"],
    "ticket_followups": ["solved_at"],
    "qa_auto_checks": ["checked_at"],
}
FLAGS = {
    "tickets": ["sla_met", "reopened", "escalated", "survey_sent"],
    "qa_ratings": ["critical"],
    "moderation_decisions": ["appealed", "overturned"],
    "ticket_followups": ["recontacted_7d"],
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> DemoDataset:
    return generate_demo_data(tmp_path_factory.mktemp("demo"), seed=7, end_month=END)


@pytest.fixture(scope="module")
def db(dataset: DemoDataset) -> dict[str, pd.DataFrame]:
    """Every table, read from its CSV (test_csv_matches_sqlite ties the CSVs to SQLite)."""
    return {name: pd.read_csv(path) for name, path in dataset.csv_paths.items()}


def month(text: pd.Series) -> pd.Series:
    return text.str[:7]


def review_scores(db: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """qa_reviews with the review score defined in reportgen.demo.qa."""
    ratings = db["qa_ratings"].dropna(subset=["rating"]).copy()
    span = ratings["scale_max"] - ratings["scale_min"]
    ratings["points"] = (ratings["rating"] - ratings["scale_min"]) / span * ratings["weight"]
    grouped = ratings.groupby("review_id")
    score = grouped["points"].sum() / grouped["weight"].sum() * 100
    failed = ratings.loc[(ratings["critical"] == 1) & (ratings["rating"] == 0), "review_id"]
    score[score.index.isin(failed)] = 0.0
    return db["qa_reviews"].assign(score=db["qa_reviews"]["review_id"].map(score))


def z_score(sample: pd.Series, reference: pd.Series) -> float:
    """How many standard errors the mean of ``sample`` lies from that of ``reference``."""
    sample, reference = sample.astype(float), reference.astype(float)
    error = np.sqrt(sample.var() / len(sample) + reference.var() / len(reference))
    return float((sample.mean() - reference.mean()) / error)


# --- files and determinism ----------------------------------------------------------------


def test_same_inputs_give_the_same_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    first = generate_demo_data(tmp_path / "a", seed=3, end_month=END, months=1)
    second = generate_demo_data(tmp_path / "b", seed=3, end_month=END, months=1)
    other = generate_demo_data(tmp_path / "c", seed=4, end_month=END, months=1)
    names = sorted(p.name for p in first.directory.iterdir())
    assert names == sorted(p.name for p in second.directory.iterdir())
    assert "stories.json" in names and "reportgen_demo.sqlite" in names
    for name in names:
        assert (first.directory / name).read_bytes() == (second.directory / name).read_bytes(), name
    for name in ("tickets.csv", "reportgen_demo.sqlite"):
        assert (first.directory / name).read_bytes() != (other.directory / name).read_bytes()
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".part")]


def test_end_month_defaults_to_the_month_before_now(tmp_path: Path) -> None:
    result = generate_demo_data(tmp_path, months=1, now=datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    assert result.end_month == date(2026, 10, 1)
    created = pd.read_csv(result.csv_paths["tickets"], usecols=["created_at"])["created_at"]
    assert created.min() >= "2026-10-01" and created.max() < "2026-11-01"
    meta = json.loads((tmp_path / "stories.json").read_text())
    assert meta["end_month"] == "2026-10-01" and meta["months"] == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"end_month": date(2026, 10, 15)}, PeriodError),
        ({"end_month": END, "months": 0}, PeriodError),
        ({"now": datetime(2026, 11, 3)}, ValueError),  # naive: which timezone?
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        generate_demo_data(tmp_path, **kwargs)
    assert not list(tmp_path.iterdir())


def test_a_failed_write_leaves_the_previous_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "tickets.csv"
    target.write_text("previous\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half a fi")
        raise RuntimeError("disk full")
    assert target.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["tickets.csv"]


# --- schema -------------------------------------------------------------------------------


def test_sqlite_and_csv_have_exactly_the_contract_columns(dataset: DemoDataset,
                                                          db: dict[str, pd.DataFrame]) -> None:
    assert set(dataset.csv_paths) == set(COLUMNS) == set(dataset.row_counts)
    with sqlite3.connect(dataset.sqlite_path) as connection:
        for table, expected in COLUMNS.items():
            info = connection.execute(f"PRAGMA table_info({table})").fetchall()
            assert [row[1] for row in info] == expected, table
            count = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            assert count == dataset.row_counts[table], table
    for table, expected in COLUMNS.items():
        path = dataset.csv_paths[table]
        assert path == dataset.directory / f"{table}.csv"
        with path.open(newline="", encoding="utf-8") as fh:
            assert next(csv.reader(fh)) == expected, table
        assert len(db[table]) == dataset.row_counts[table], table


def test_csv_matches_sqlite(dataset: DemoDataset, db: dict[str, pd.DataFrame]) -> None:
    with sqlite3.connect(dataset.sqlite_path) as connection:
        # Small tables in full; reading every large one back row by row is slow.
        for table in ("csat_responses", "qa_reviews", "calibration_reviews"):
            from_sqlite = pd.read_sql(f"SELECT * FROM {table}", connection)
            pd.testing.assert_frame_equal(db[table], from_sqlite, check_dtype=False, obj=table)
        # Every table by per-column fingerprints computed on both sides.
        for table, names in COLUMNS.items():
            frame = db[table]
            numeric = [pd.api.types.is_numeric_dtype(frame[name]) for name in names]
            parts = [f"COUNT({name}), TOTAL({name})" if is_number else
                     f"COUNT({name}), MIN({name}), MAX({name}), TOTAL(LENGTH({name}))"
                     for name, is_number in zip(names, numeric, strict=True)]
            got = iter(connection.execute(f"SELECT {', '.join(parts)} FROM {table}").fetchone())
            for name, is_number in zip(names, numeric, strict=True):
                present = frame[name].dropna()
                assert next(got) == len(present), (table, name)
                if is_number:
                    assert next(got) == pytest.approx(present.sum(), rel=1e-12), (table, name)
                else:
                    expected = (present.min(), present.max(), float(present.str.len().sum()))
                    assert (next(got), next(got), next(got)) == expected, (table, name)


def test_ids_flags_and_value_domains(db: dict[str, pd.DataFrame]) -> None:
    tickets = db["tickets"]
    assert tickets["ticket_id"].str.fullmatch(r"T\d{7}").all() and tickets["ticket_id"].is_unique
    assert db["qa_reviews"]["review_id"].str.fullmatch(r"R\d{6}").all()
    assert tickets["agent_id"].str.fullmatch(r"A\d{3}").all()
    assert 70 <= tickets["agent_id"].nunique() <= 90
    assert tickets["queue"].nunique() == 10 and tickets["site"].nunique() == 3
    assert set(tickets["channel"]) == {"email", "chat", "phone", "social"}
    assert set(tickets["priority"]) == {"low", "normal", "high", "urgent"}
    assert set(tickets["status"]) <= {"solved", "open", "pending"}
    assert tickets["customer_email"].str.fullmatch(r"[a-z.]+\d*@example\.(com|org|net)").all()
    assert tickets.groupby("queue")["contact_reason"].nunique().between(10, 12).all()
    for table, flags in FLAGS.items():
        for flag in flags:
            assert set(db[table][flag].dropna().astype(int)) <= {0, 1}, (table, flag)

    replied = tickets["first_response_minutes"].notna()
    met = tickets["first_response_minutes"] <= tickets["sla_target_minutes"]
    assert (tickets.loc[replied, "sla_met"] == met[replied].astype(int)).all()
    assert tickets.loc[~replied, "sla_met"].isna().all()
    solved = tickets["status"] == "solved"
    assert tickets.loc[solved, ["solved_at", "resolution_hours"]].notna().all().all()
    assert tickets.loc[~solved, ["solved_at", "resolution_hours"]].isna().all().all()
    assert (tickets.loc[~solved, "survey_sent"] == 0).all()
    assert (tickets["agent_replies"] >= 0).all()
    assert 0.3 <= (tickets["agent_replies"] == 1).mean() <= 0.8

    responses = db["csat_responses"]
    assert responses["rating"].between(1, 5).all()
    shares = responses["rating"].value_counts(normalize=True)
    assert shares[5] > shares[4] > shares[3] and shares[1] > shares[2]  # J-shape
    assert responses["nps_score"].dropna().between(0, 10).all()
    assert responses["effort_score"].dropna().between(1, 7).all()
    assert 0.35 <= responses["nps_score"].isna().mean() <= 0.65
    assert 0.35 <= responses["effort_score"].isna().mean() <= 0.65
    comments = responses["comment"].dropna()
    assert 0.1 <= len(comments) / len(responses) <= 0.6
    assert comments.str.contains(r"[\w.]+@example\.(?:com|org|net)").any()
    assert comments.str.contains(r"\+\d{1,3} \d{3} 555 \d{3,4}").any()


def test_qa_scorecard_and_calibration_shape(db: dict[str, pd.DataFrame]) -> None:
    ratings = db["qa_ratings"]
    assert ratings.groupby("review_id").size().eq(8).all()
    assert set(db["qa_reviews"]["scorecard"]) == {"Support v3"}
    assert sorted(db["qa_reviews"]["auditor_id"].unique()) == [f"AU{i:02d}" for i in range(1, 13)]
    rated = ratings.dropna(subset=["rating"])
    assert rated["rating"].between(rated["scale_min"], rated["scale_max"]).all()
    critical = ratings[ratings["critical"] == 1]
    assert set(critical["category"]) == {"Data protection"}
    assert (critical[["scale_min", "scale_max"]] == [0, 1]).all().all()
    assert 0.005 <= (critical["rating"] == 0).mean() <= 0.03
    na_rate = ratings.groupby("category")["rating"].apply(lambda s: s.isna().mean())
    assert na_rate.max() <= 0.16 and (na_rate >= 0.04).sum() >= 2
    assert na_rate["Empathy"] >= 0.05

    scores = db["calibration_scores"]
    assert scores["rating"].dropna().between(1, 4).all()
    assert 0.01 <= scores["rating"].isna().mean() <= 0.06
    per_session = scores.groupby("session_id")
    assert per_session["ticket_id"].nunique().between(8, 10).all()
    assert per_session["rater_id"].nunique().eq(13).all()
    assert scores.groupby(month(scores["session_date"]))["session_id"].nunique().eq(2).all()
    assert set(scores.loc[scores["role"] == "calibrator", "rater_id"]) == {"CAL1"}
    reviews = db["calibration_reviews"]
    assert reviews["review_score"].between(0, 100).all()
    assert len(reviews) == len(scores.drop_duplicates(["session_id", "ticket_id", "rater_id"]))


def test_row_counts_per_month(db: dict[str, pd.DataFrame]) -> None:
    tickets_per_month = db["tickets"].groupby(month(db["tickets"]["created_at"])).size()
    assert len(tickets_per_month) == 13 and tickets_per_month.between(4000, 6000).all()
    # The November/December peak.
    assert tickets_per_month[["2025-11", "2025-12"]].min() > tickets_per_month.drop(
        ["2025-11", "2025-12"]).max()
    reviews = db["qa_reviews"].groupby(month(db["qa_reviews"]["reviewed_at"])).size()
    assert len(reviews) == 13 and reviews.between(600, 900).all()
    decisions = db["moderation_decisions"]
    per_month = decisions.groupby(month(decisions["decided_at"])).size()
    assert len(per_month) == 13 and per_month.between(1500, 2500).all()
    surveyed = db["tickets"][db["tickets"]["survey_sent"] == 1].groupby("channel").size()
    response_rate = db["csat_responses"].groupby("channel").size() / surveyed
    assert response_rate.between(0.18, 0.40).all()  # transactional CSAT surveys: 20-35%
    assert 0.20 <= len(db["csat_responses"]) / surveyed.sum() <= 0.35
    assert response_rate["email"] > response_rate["social"]
    gold = decisions["gold_action"].notna().mean()
    assert 0.07 <= gold <= 0.13


# --- time -----------------------------------------------------------------------------------


def test_timestamps_are_utc_text_inside_the_span(db: dict[str, pd.DataFrame]) -> None:
    for table, columns in TIMESTAMPS.items():
        for column in columns:
            values = db[table][column].dropna()
            assert values.str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all(), (table, column)
            pd.to_datetime(values, format="%Y-%m-%d %H:%M:%S")  # every one parses
            assert values.min() >= START and values.max() < SNAPSHOT, (table, column)
    for table in ("calibration_scores", "calibration_reviews"):
        days = db[table]["session_date"]
        pd.to_datetime(days, format="%Y-%m-%d")
        assert days.min() >= START[:10] and days.max() < SNAPSHOT[:10]


def test_volume_has_intraday_weekly_and_seasonal_shape(db: dict[str, pd.DataFrame]) -> None:
    created = pd.to_datetime(db["tickets"]["created_at"])
    by_hour = created.dt.hour.value_counts()
    assert by_hour[range(13, 18)].mean() > 2 * by_hour[range(1, 6)].mean()
    by_day = created.dt.day_of_week.value_counts()
    assert by_day[[5, 6]].max() < by_day[[0, 1, 2]].min()


# --- referential integrity -----------------------------------------------------------------


def test_everything_points_at_real_tickets_in_time_order(db: dict[str, pd.DataFrame]) -> None:
    tickets = db["tickets"]
    solved = tickets.dropna(subset=["solved_at"])
    assert (solved["solved_at"] >= solved["created_at"]).all()
    known = tickets[["ticket_id", "solved_at", "survey_sent", "queue", "channel", "agent_id",
                     "site"]]

    responses = db["csat_responses"]
    assert responses["ticket_id"].is_unique
    joined = responses.merge(known, on="ticket_id", how="left", suffixes=("", "_ticket"),
                             indicator=True)
    assert (joined["_merge"] == "both").all()
    assert (joined["survey_sent"] == 1).all()
    assert (joined["responded_at"] > joined["solved_at"]).all()
    for column in ("queue", "channel", "site", "agent_id"):
        assert (joined[column] == joined[f"{column}_ticket"]).all(), column

    reviews = db["qa_reviews"]
    assert reviews["ticket_id"].is_unique
    joined = reviews.merge(known, on="ticket_id", how="left", suffixes=("", "_ticket"),
                           indicator=True)
    assert (joined["_merge"] == "both").all()
    assert (joined["reviewed_at"] > joined["solved_at"]).all()
    assert (joined["agent_id"] == joined["agent_id_ticket"]).all()
    assert db["qa_ratings"]["review_id"].isin(reviews["review_id"]).all()
    expected = db["qa_ratings"].merge(reviews, on="review_id")[COLUMNS["qa_review_ratings"]]
    view = db["qa_review_ratings"]
    key = ["review_id", "category"]
    pd.testing.assert_frame_equal(view.sort_values(key).reset_index(drop=True),
                                  expected.sort_values(key).reset_index(drop=True))

    calibration = db["calibration_reviews"].merge(known, on="ticket_id", how="left")
    assert calibration["solved_at"].notna().all()
    assert (calibration["solved_at"].str[:10] <= calibration["session_date"]).all()

    decisions = db["moderation_decisions"]
    appealed = decisions["appealed"] == 1
    assert decisions.loc[appealed, "appeal_outcome"].isin(["upheld", "overturned"]).all()
    assert decisions.loc[~appealed, "appeal_outcome"].isna().all()
    assert (decisions["overturned"] == (decisions["appeal_outcome"] == "overturned")).all()
    assert (decisions.loc[appealed, "action"] != "no_action").all()


# --- planted stories -----------------------------------------------------------------------


def test_stories_are_described_in_the_result_and_in_stories_json(dataset: DemoDataset) -> None:
    keys = {"billing_csat_drop", "correct_information_defects", "onboarding_coaching",
            "chat_mix_shift", "auditor_drift", "harassment_overturns",
            "correct_information_disputes", "auto_scoring_tone", "audit_skips_long_chat",
            "general_audit_shortfall", "autoqa_kept_apart", "resolution_predicts_recontact",
            "billing_refund_contacts_unusual", "audit_under_represents_spanish",
            "autoqa_empathy_drift", "violence_portuguese_precision"}
    assert {s.key for s in dataset.stories} == keys
    assert all(isinstance(s, Story) and s.title and s.description and s.scope and s.metric
               for s in dataset.stories)
    starts = {s.key: s.starts for s in dataset.stories}
    assert starts["billing_csat_drop"] == date(2026, 10, 4)
    assert starts["onboarding_coaching"] == date(2026, 7, 1)
    assert starts["auditor_drift"] == date(2026, 9, 1)
    assert starts["harassment_overturns"] == END
    assert starts["autoqa_kept_apart"] == date(2026, 8, 1)
    stored = json.loads((dataset.directory / "stories.json").read_text())["stories"]
    assert stored == [s.to_json() for s in dataset.stories]


def test_billing_csat_drops_after_the_refund_policy_change(db: dict[str, pd.DataFrame]) -> None:
    responses = db["csat_responses"].merge(db["tickets"][["ticket_id", "created_at"]])
    responses["satisfied"] = responses["rating"] >= 4
    billing = responses[responses["queue"] == "Billing"]
    after = billing["created_at"] >= "2026-10-04"
    before_share, after_share = billing.loc[~after, "satisfied"].mean(), billing.loc[after, "satisfied"].mean()
    assert 0.78 <= before_share <= 0.92
    assert before_share - after_share >= 0.06
    rest = responses[responses["queue"] != "Billing"]
    assert abs(z_score(rest.loc[rest["created_at"] >= "2026-10-04", "satisfied"],
                       rest.loc[month(rest["created_at"]) == "2026-09", "satisfied"])) < 3.5


def test_correct_information_defects_double_in_two_queues(db: dict[str, pd.DataFrame]) -> None:
    ratings = db["qa_review_ratings"]
    ratings = ratings[(ratings["category"] == "Correct information") & ratings["rating"].notna()]
    ratings = ratings.assign(defect=ratings["rating"] <= 2, month=month(ratings["reviewed_at"]))
    by_month = ratings.groupby("month")["defect"].mean()
    baseline = ratings.loc[ratings["month"] <= "2026-07", "defect"].mean()
    assert 0.05 <= baseline <= 0.11 and 0.04 <= by_month["2026-07"] <= 0.12
    assert by_month["2026-10"] >= 1.6 * baseline
    hit = ratings["queue"].isin(["Technical Support", "Shipping"])
    rise = (ratings[ratings["month"] == "2026-10"].groupby(hit)["defect"].mean()
            - ratings[ratings["month"] <= "2026-07"].groupby(hit)["defect"].mean())
    assert rise[True] >= 0.12 and rise[False] <= 0.04


def test_onboarding_coaching_lifts_review_scores(db: dict[str, pd.DataFrame]) -> None:
    reviews = review_scores(db)
    after = reviews["reviewed_at"] >= "2026-07-01"
    onboarding = reviews["queue"] == "Onboarding"
    lift = (reviews.loc[onboarding & after, "score"].mean()
            - reviews.loc[onboarding & ~after, "score"].mean())
    assert lift >= 3.0
    held = reviews[onboarding & (reviews["reviewed_at"] >= "2026-09-01")]["score"].mean()
    assert held - reviews.loc[onboarding & ~after, "score"].mean() >= 3.0
    others = reviews[~onboarding & (reviews["auditor_id"] != "AU07")]
    other_after = others["reviewed_at"] >= "2026-07-01"
    assert abs(others.loc[other_after, "score"].mean()
               - others.loc[~other_after, "score"].mean()) < 2.0


def test_chat_share_grows_and_chat_rates_lower(db: dict[str, pd.DataFrame]) -> None:
    tickets = db["tickets"]
    share = tickets.groupby(month(tickets["created_at"]))["channel"].apply(
        lambda s: (s == "chat").mean())
    assert 0.20 <= share.iloc[0] <= 0.30 and 0.35 <= share.iloc[-1] <= 0.45
    assert np.corrcoef(np.arange(len(share)), share.to_numpy())[0, 1] > 0.9
    satisfied = db["csat_responses"].assign(ok=db["csat_responses"]["rating"] >= 4)
    by_channel = satisfied.groupby("channel")["ok"].mean()
    assert by_channel["email"] - by_channel["chat"] >= 0.05


def test_au07_drifts_lenient_in_the_last_two_months(db: dict[str, pd.DataFrame]) -> None:
    sessions = db["calibration_reviews"]
    reference = sessions[sessions["rater_id"] == "CAL1"][["session_id", "ticket_id", "review_score"]]
    paired = sessions[sessions["role"] == "auditor"].merge(
        reference, on=["session_id", "ticket_id"], suffixes=("", "_cal"))
    paired["deviation"] = paired["review_score"] - paired["review_score_cal"]
    late = paired["session_date"] >= "2026-09-01"
    deviation = paired.groupby(["rater_id", late])["deviation"].mean().unstack()
    assert deviation.loc["AU07", True] >= 5
    assert abs(deviation.loc["AU07", False]) <= 3
    change = deviation[True] - deviation[False]
    assert change.idxmax() == "AU07" and change.drop("AU07").abs().max() < 5

    reviews = review_scores(db)
    au07 = reviews[reviews["auditor_id"] == "AU07"]
    au07_late = au07["reviewed_at"] >= "2026-09-01"
    assert au07.loc[au07_late, "score"].mean() - au07.loc[~au07_late, "score"].mean() >= 3


def test_harassment_overturns_double_in_the_report_month(db: dict[str, pd.DataFrame]) -> None:
    decisions = db["moderation_decisions"]
    appeals = decisions[decisions["appealed"] == 1]
    last = appeals["decided_at"] >= "2026-10-01"
    harassment = appeals["policy_area"] == "harassment"
    before = appeals.loc[harassment & ~last, "overturned"].mean()
    assert 0.10 <= before <= 0.25
    assert appeals.loc[harassment & last, "overturned"].mean() >= 1.6 * before
    rest_before = appeals.loc[~harassment & ~last, "overturned"].mean()
    assert appeals.loc[~harassment & last, "overturned"].mean() < 1.5 * rest_before


def test_no_spurious_swings_elsewhere(db: dict[str, pd.DataFrame]) -> None:
    # Month-to-month differences stay within sampling noise where nothing was planted.
    reviews = review_scores(db)
    reviews = reviews[(reviews["queue"] != "Onboarding") & (reviews["auditor_id"] != "AU07")]
    for _, scores in reviews.groupby(month(reviews["reviewed_at"]))["score"]:
        assert abs(z_score(scores, reviews["score"])) < 4
    responses = db["csat_responses"][db["csat_responses"]["queue"] != "Billing"]
    satisfied = responses["rating"] >= 4
    for _, group in satisfied.groupby(month(responses["responded_at"])):
        assert abs(z_score(group, satisfied)) < 4
    tickets = db["tickets"]
    sla = tickets.groupby(month(tickets["created_at"]))["sla_met"].mean()
    assert sla.between(0.7, 0.95).all()


# --- the QA programme's own data: the audit sample, the automatic scorer, re-contacts --------


def test_every_review_is_a_drawn_ticket_and_turned_down_ones_are_never_audited(
        db: dict[str, pd.DataFrame]) -> None:
    sample, reviews, tickets = db["qa_sample"], db["qa_reviews"], db["tickets"]
    assert sample["ticket_id"].is_unique
    assert set(sample["review_status"]) == {"audited", "skipped", "replaced"}
    audited = sample[sample["review_status"] == "audited"]
    assert sorted(audited["review_id"]) == sorted(reviews["review_id"])
    joined = audited.merge(reviews[["review_id", "ticket_id", "reviewed_at"]], on="review_id",
                           suffixes=("", "_review"))
    assert (joined["ticket_id"] == joined["ticket_id_review"]).all()
    assert (joined["drawn_at"] <= joined["reviewed_at"]).all()
    assert (month(joined["drawn_at"]) == month(joined["reviewed_at"])).all()
    down = sample[sample["review_status"] != "audited"]
    assert down["review_id"].isna().all() and not down["ticket_id"].isin(reviews["ticket_id"]).any()
    solved = sample.merge(tickets[["ticket_id", "solved_at"]], on="ticket_id")
    assert len(solved) == len(sample) and (solved["drawn_at"] > solved["solved_at"]).all()
    assert 0.08 <= len(down) / len(sample) <= 0.14
    assert 0.5 <= (down["review_status"] == "replaced").mean() <= 0.85


def test_reviewers_turn_down_long_chat_tickets(db: dict[str, pd.DataFrame]) -> None:
    sample = db["qa_sample"].merge(db["tickets"][["ticket_id", "channel", "handle_minutes"]])
    down = sample["review_status"] != "audited"
    chat = sample["channel"] == "chat"
    by_month = sample.assign(down=down, chat=chat).groupby([month(sample["drawn_at"]), "down"])
    shares = by_month["chat"].mean().unstack()
    assert (shares[True] > 1.8 * shares[False]).all()  # every month, not on average
    handle = sample.groupby(down)["handle_minutes"].median()
    assert handle[True] >= 1.6 * handle[False]


def test_the_automatic_scorer_rates_unaudited_tickets_from_its_start(
        db: dict[str, pd.DataFrame]) -> None:
    only, tickets = db["qa_auto_only"], db["tickets"]
    assert not only["ticket_id"].isin(db["qa_reviews"]["ticket_id"]).any()
    joined = only.merge(tickets[["ticket_id", "solved_at", "agent_id", "queue"]], on="ticket_id",
                        suffixes=("", "_ticket"))
    assert len(joined) == len(only)
    assert (joined["scored_at"] > joined["solved_at"]).all()
    assert joined["solved_at"].min() >= "2026-08-01"  # two months before the end: Aug, Sep, Oct
    assert (joined["agent_id"] == joined["agent_id_ticket"]).all()
    assert (joined["queue"] == joined["queue_ticket"]).all()
    graded = {c for c, critical in db["qa_ratings"][["category", "critical"]].drop_duplicates()
              .itertuples(index=False) if critical == 0}
    assert set(only["category"]) == graded and only["auto_rating"].between(1, 4).all()
    assert not only.duplicated(["ticket_id", "category"]).any()
    # a reviewer confirms a whole ticket or none of it, about one ticket in five
    confirmed = only.groupby("ticket_id")["confirmed_by"].agg(["nunique", "count", "size"])
    assert (confirmed["nunique"] <= 1).all()
    assert ((confirmed["count"] == 0) | (confirmed["count"] == confirmed["size"])).all()
    assert 0.15 <= (confirmed["count"] > 0).mean() <= 0.25
    assert set(only["confirmed_by"].dropna()) <= {f"AU{i:02d}" for i in range(1, 13)}


def test_automatic_ratings_kept_apart_would_pull_the_iqs_down(db: dict[str, pd.DataFrame]) -> None:
    only = db["qa_auto_only"]
    late = db["qa_auto_scores"][db["qa_auto_scores"]["reviewed_at"] >= "2026-08-01"]

    def iqs(frame: pd.DataFrame, key: str, column: str) -> float:
        """The mean over reviews (or tickets) of their items' 0-100 scores."""
        return float(((frame[column] - 1) / 3 * 100).groupby(frame[key]).mean().mean())

    assert iqs(late, "review_id", "human_rating") - iqs(only, "ticket_id", "auto_rating") >= 5


def test_resolution_defects_bring_customers_back(db: dict[str, pd.DataFrame]) -> None:
    followups, tickets = db["ticket_followups"], db["tickets"]
    solved = tickets[tickets["status"] == "solved"]
    assert sorted(followups["ticket_id"]) == sorted(solved["ticket_id"])
    joined = followups.merge(tickets[["ticket_id", "reopened", "solved_at"]], on="ticket_id",
                             suffixes=("", "_ticket"))
    assert (joined["solved_at"] == joined["solved_at_ticket"]).all()
    pending = joined["solved_at"] > "2026-10-25 00:00:00"  # the 7 days run past the snapshot
    assert joined.loc[pending, "recontacted_7d"].isna().all()
    assert joined.loc[~pending, "recontacted_7d"].notna().all()
    assert (joined.loc[joined["reopened"] == 1, "recontacted_7d"].dropna() == 1).all()
    rated = db["qa_ratings"].merge(db["qa_reviews"][["review_id", "ticket_id"]]).merge(followups)
    rated = rated.dropna(subset=["rating", "recontacted_7d"])

    def came_back(category: str) -> pd.Series:
        part = rated[rated["category"] == category]
        return part.groupby(part["rating"] <= 2)["recontacted_7d"].mean()

    assert came_back("Resolution")[True] >= 2.5 * came_back("Resolution")[False]
    assert came_back("Correct information")[True] >= 1.4 * came_back("Correct information")[False]
    tone = came_back("Greeting & tone")
    assert abs(tone[True] - tone[False]) < 0.05


def test_the_archive_holds_the_23_months_before_the_span_shaped_like_the_tickets(
        db: dict[str, pd.DataFrame]) -> None:
    archive, tickets = db["contact_archive"], db["tickets"]
    assert archive["contact_id"].is_unique
    months = sorted(archive["month"].unique())
    assert len(months) == 23 and months[0] == "2023-11-01" and months[-1] == "2025-09-01"
    assert all(m.endswith("-01") for m in months)
    per_month = archive.groupby("month").size()
    assert per_month.between(4000, 6000).all()
    assert per_month[["2023-11-01", "2023-12-01", "2024-11-01", "2024-12-01"]].min() > \
        per_month.drop(["2023-11-01", "2023-12-01", "2024-11-01", "2024-12-01"]).max()
    assert set(archive["queue"]) == set(tickets["queue"])
    assert set(zip(archive["queue"], archive["contact_reason"], strict=True)) <= \
        set(zip(tickets["queue"], tickets["contact_reason"], strict=True))


def test_billing_refund_contacts_stand_out_in_the_last_month(db: dict[str, pd.DataFrame]) -> None:
    refunds = ["Refund request", "Subscription cancellation", "Double charge"]
    tickets, archive = db["tickets"], db["contact_archive"]
    billing = tickets[(tickets["queue"] == "Billing") & tickets["contact_reason"].isin(refunds)]
    by_month = billing.groupby(month(billing["created_at"])).size()
    old = archive[(archive["queue"] == "Billing") & archive["contact_reason"].isin(refunds)]
    before = pd.concat([old.groupby(month(old["month"])).size(), by_month.iloc[:-1]])
    # October (the last month) against the Octobers before it
    octobers = before[before.index.str.endswith("-10")]
    assert len(octobers) == 2 and by_month["2026-10"] >= 1.25 * octobers.max()


def test_violence_false_positives_are_mostly_portuguese(db: dict[str, pd.DataFrame]) -> None:
    decisions = db["moderation_decisions"]
    labelled = decisions.loc[decisions["gold_action"].notna()]
    false_positive = (labelled["action"] != "no_action") & (labelled["gold_action"] == "no_action")
    violence = labelled["policy_area"] == "violence"
    portuguese = labelled["language"] == "Portuguese"
    assert portuguese[violence & false_positive].mean() > 0.6
    assert portuguese[violence & ~false_positive].mean() < 0.4
    assert set(decisions["language"]) == {"English", "Spanish", "Portuguese"}


def test_spanish_tickets_are_audited_less_and_fail_more(db: dict[str, pd.DataFrame]) -> None:
    languages = db["ticket_languages"]
    solved = db["tickets"].loc[db["tickets"]["status"] == "solved", "ticket_id"]
    assert sorted(languages["ticket_id"]) == sorted(solved)
    reviews = db["qa_reviews"].merge(languages, on="ticket_id")
    ratings = db["qa_ratings"].dropna(subset=["rating"])
    score = ((ratings["rating"] - ratings["scale_min"])
             / (ratings["scale_max"] - ratings["scale_min"]) * ratings["weight"])
    by = ratings.assign(points=score).groupby("review_id")
    passed = (100 * by["points"].sum() / by["weight"].sum() >= 80).rename("passed")
    reviews = reviews.merge(passed, left_on="review_id", right_index=True)
    spanish = reviews["language"] == "Spanish"
    assert spanish.mean() < 0.5 * (languages["language"] == "Spanish").mean()
    assert reviews.loc[spanish, "passed"].mean() < reviews.loc[~spanish, "passed"].mean() - 0.15


def test_reviewers_re_rate_automatic_only_tickets_and_empathy_drifts_last_month(
        db: dict[str, pd.DataFrame]) -> None:
    only, checks = db["qa_auto_only"], db["qa_auto_checks"]
    pairs = only.merge(checks, on=["ticket_id", "category"], validate="one_to_one")
    assert len(pairs) == len(checks) and (pairs["checked_at"] > pairs["scored_at"]).all()
    assert pairs["human_rating"].between(1, 4).all()
    pairs = pairs.assign(month=pairs["scored_at"].str.slice(0, 7),
                         higher=pairs["auto_rating"] > pairs["human_rating"])
    empathy = pairs.loc[pairs["category"] == "Empathy"].groupby("month")["higher"].mean()
    others = pairs.loc[pairs["category"] != "Empathy"].groupby("month")["higher"].mean()
    last, before = END.isoformat()[:7], date(END.year, END.month - 1, 1).isoformat()[:7]
    assert empathy[last] > empathy[before] + 0.15
    assert abs(others[last] - others[before]) < 0.05
