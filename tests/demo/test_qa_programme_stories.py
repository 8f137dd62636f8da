"""The QA-programme stories planted in the demo data, as the monthly report tells them.

Each story is told by findings the PDF prints: their sentences are read back from the pages,
what they say is checked against the data the story planted, and a story takes one page or
less (from the top of its first finding to the bottom of its last), in a report that stays
within the readout's page budget.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pdfplumber
import pytest

from reportgen.report.model.sections import Finding

#: story -> the finding kinds that tell it (each exactly once in the report)
STORIES: dict[str, tuple[str, ...]] = {
    "audit_skips_long_chat": ("audit_skips",),
    "audit_under_represents_spanish": ("audit_mix",),
    "general_audit_shortfall": ("audit_shortfall",),
    "autoqa_kept_apart": ("autoqa_stand_in", "autoqa_iqs"),
    "autoqa_empathy_drift": ("autoqa_drift",),
    "resolution_predicts_recontact": ("rubric_validity", "rubric_retire"),
    "moderation_quality": ("moderation_quality",),
    "csat_year_projection": ("target_projection",),
    "billing_refund_contacts_unusual": ("anomaly",),
}


def _flat(text: str) -> str:
    """Text without any whitespace: a sentence matches however the page wrapped it."""
    return re.sub(r"\s+", "", text)


class Pages:
    """The PDF's words with their positions, searchable whatever the line breaks."""

    def __init__(self, path: Path):
        with pdfplumber.open(path) as document:
            self.height = float(document.pages[0].height)
            self.words = [page.extract_words() for page in document.pages]
        self.text = ["".join(w["text"] for w in words) for words in self.words]

    def __len__(self) -> int:
        return len(self.words)

    def find(self, sentence: str) -> list[tuple[int, float, float]]:
        """Every place ``sentence`` is printed whole: (page index, top, bottom)."""
        needle = _flat(sentence)
        found = []
        for index, (words, text) in enumerate(zip(self.words, self.text, strict=True)):
            ends = []
            position = 0
            for word in words:
                position += len(word["text"])
                ends.append(position)
            start = text.find(needle)
            while start >= 0:
                first = next(i for i, end in enumerate(ends) if end > start)
                last = next(i for i, end in enumerate(ends) if end >= start + len(needle))
                found.append((index, float(words[first]["top"]), float(words[last]["bottom"])))
                start = text.find(needle, start + 1)
        return found


@pytest.fixture(scope="module")
def report(demo_mqr_pdf):
    model, path = demo_mqr_pdf
    return model, Pages(path)


def _findings(model, kinds: Sequence[str]) -> list[Finding]:
    shown = [*model.findings, *(f for s in model.sections for f in s.findings)]
    return [f for kind in kinds for f in shown if f.kind == kind]


def _told(model, pages: Pages, story: str) -> list[tuple[Finding, tuple[int, float, float]]]:
    """The story's findings, each printed once, in reading order."""
    findings = _findings(model, STORIES[story])
    assert [f.kind for f in findings] == list(STORIES[story]), story
    placed = []
    for finding in findings:
        where = pages.find(finding.sentence)
        assert len(where) == 1, (story, finding.sentence, where)
        placed.append((finding, where[0]))
    return sorted(placed, key=lambda item: item[1][:2])


def test_the_report_keeps_to_the_page_budget(report) -> None:
    _, pages = report
    # 15 pages of readout, and the scorecard of queues on a page of its own
    assert 12 <= len(pages) <= 16


@pytest.mark.parametrize("story", sorted(STORIES))
def test_each_story_takes_one_page_or_less(report, story: str) -> None:
    model, pages = report
    placed = _told(model, pages, story)
    (first_page, top, _), (last_page, _, bottom) = placed[0][1], placed[-1][1]
    if first_page == last_page:
        extent = bottom - top
    else:
        assert last_page == first_page + 1, (story, first_page, last_page)
        extent = pages.height - top + bottom
    assert extent <= pages.height, (story, extent)


def test_reviewers_turn_down_long_chat_tickets(report):
    model, pages = report
    ((skips, _),) = _told(model, pages, "audit_skips_long_chat")
    assert skips.numbers["significant"] and skips.numbers["claim"] == "difference"
    assert {c["column"] for c in skips.numbers["columns"] if c["differs"]} == \
        {"channel", "handle_minutes"}
    assert "Skipped tickets are more often Chat" in skips.sentence
    assert "are longer than audited ones (median" in skips.sentence
    assert " minutes against " in skips.sentence and ": more than chance would explain." in \
        skips.sentence


def test_the_audits_under_represent_spanish_and_reweighting_lowers_the_pass_rate(
        report, demo_dir: Path) -> None:
    import pandas as pd

    model, pages = report
    ((mix, _),) = _told(model, pages, "audit_under_represents_spanish")
    assert not mix.numbers["representative"] and mix.numbers["under"] == ["Spanish"]
    unweighted = mix.numbers["unweighted"]["value"]
    reweighted = mix.numbers["reweighted"]["value"]
    # independent: September's audited tickets' pass rates per language, weighted by the
    # languages' shares of all the month's tickets (read straight from the demo files; the
    # report's month is Berlin's, the files' times UTC)
    start, end = "2026-08-31 22:00:00", "2026-09-30 22:00:00"
    tickets = pd.read_csv(demo_dir / "tickets.csv", usecols=["ticket_id", "status", "solved_at"])
    sample = pd.read_csv(demo_dir / "qa_sample.csv")
    languages = pd.read_csv(demo_dir / "ticket_languages.csv")
    drawn = sample.set_index("ticket_id")["drawn_at"]
    solved = tickets.loc[tickets["status"] == "solved"].set_index("ticket_id")["solved_at"]
    at = drawn.reindex(solved.index).fillna(solved)
    september = languages.set_index("ticket_id").loc[at.index[(at >= start) & (at < end)]]
    audited = sample.loc[(sample["review_status"] == "audited") & (sample["drawn_at"] >= start)
                         & (sample["drawn_at"] < end)]
    passed = audited.merge(languages).assign(
        passed=lambda f: f["review_id"].map(_passed(demo_dir)))
    rates = passed.groupby("language")["passed"].mean()
    shares = september["language"].value_counts(normalize=True)
    assert unweighted == pytest.approx(passed["passed"].mean())
    assert reweighted == pytest.approx(float((rates * shares).sum()))
    assert unweighted - reweighted > 0.02  # the audits flatter the pass rate
    moved = f"{(round(unweighted * 100, 1) - round(reweighted * 100, 1)):.1f}"
    assert "under-represents Spanish" in mix.sentence
    assert mix.sentence.endswith(f"The audits overstate it by {moved} points.")


def _passed(demo_dir: Path):
    """Each review's pass (score 80 or more, a failed critical item fails), by review_id."""
    import pandas as pd

    ratings = pd.read_csv(demo_dir / "qa_ratings.csv").dropna(subset=["rating"])
    score = (ratings["rating"] - ratings["scale_min"]) / (ratings["scale_max"]
                                                          - ratings["scale_min"])
    by = ratings.assign(points=score * ratings["weight"]).groupby("review_id")
    critical = ratings.loc[(ratings["critical"] == 1) & (ratings["rating"] == 0), "review_id"]
    passed = 100 * by["points"].sum() / by["weight"].sum() >= 80
    return passed & ~passed.index.isin(critical)


def test_general_is_audited_too_few_times(report) -> None:
    model, pages = report
    ((shortfall, _),) = _told(model, pages, "general_audit_shortfall")
    assert [g["group"] for g in shortfall.numbers["named"]] == ["General"]
    (named,) = shortfall.numbers["named"]
    assert named["audits"] < named["required"]
    assert shortfall.sentence.startswith(f"General was audited {named['audits']} times in "
                                         "September 2026")


def test_automatic_scores_stand_in_except_greeting_and_unconfirmed_ones_are_kept_apart(report):
    model, pages = report
    placed = dict((f.kind, f) for f, _ in _told(model, pages, "autoqa_kept_apart"))
    stand_in, iqs = placed["autoqa_stand_in"], placed["autoqa_iqs"]
    assert [i["item"] for i in stand_in.numbers["cannot_stand_in"]] == ["Greeting & tone"]
    assert len(stand_in.numbers["stands_in"]) == 6
    numbers = iqs.numbers
    assert numbers["confirmed_scores"] > 0 and numbers["kept_apart"] > numbers["confirmed_scores"]
    assert numbers["all_counted_iqs"] <= numbers["human_iqs"] - 4
    assert numbers["confirmed_iqs"] < numbers["human_iqs"]
    assert iqs.sentence.startswith("IQS from auditors' own ratings was ")
    assert "automatic ratings no auditor confirmed were kept apart" in iqs.sentence


def test_the_automatic_scorer_drifts_on_empathy(report, demo_dir: Path) -> None:
    import pandas as pd
    from sklearn.metrics import cohen_kappa_score

    model, pages = report
    ((drift, _),) = _told(model, pages, "autoqa_empathy_drift")
    assert drift.numbers["item"] == "Empathy" and drift.numbers["significant"]
    assert drift.numbers["agreement"] < drift.numbers["previous"] - 0.05
    assert drift.sentence.startswith("The automatic scorer's agreement with auditors on Empathy "
                                     "fell from ")
    assert drift.sentence.endswith(": a real change, not noise.")
    # independent: the share of Empathy ratings the scorer and a reviewer gave alike, and
    # Cohen's kappa (sklearn), fall from August to September; no other item's do as much
    scores = pd.read_csv(demo_dir / "qa_auto_scores.csv")
    only = pd.read_csv(demo_dir / "qa_auto_only.csv")
    checks = pd.read_csv(demo_dir / "qa_auto_checks.csv")
    pairs = pd.concat([
        scores[["reviewed_at", "category", "human_rating", "auto_rating"]].rename(
            columns={"reviewed_at": "at"}),
        only.merge(checks, on=["ticket_id", "category"])[
            ["scored_at", "category", "human_rating", "auto_rating"]].rename(
            columns={"scored_at": "at"})])
    pairs = pairs.assign(month=pairs["at"].str.slice(0, 7))

    def kappa(month: str, item: str) -> float:
        part = pairs.loc[(pairs["month"] == month) & (pairs["category"] == item)]
        return cohen_kappa_score(part["human_rating"], part["auto_rating"])

    falls = {item: kappa("2026-08", item) - kappa("2026-09", item)
             for item in pairs["category"].unique()}
    assert max(falls, key=falls.__getitem__) == "Empathy" and falls["Empathy"] > 0.1


def test_resolution_predicts_recontacts_and_csat(report) -> None:
    model, pages = report
    placed = dict((f.kind, f) for f, _ in _told(model, pages, "resolution_predicts_recontact"))
    validity, retire = placed["rubric_validity"], placed["rubric_retire"]
    recontact = next(e for e in validity.numbers["effects"] if e["outcome"] == "recontacted_7d")
    assert recontact["high"] < 0  # higher QA scores, fewer customers back within 7 days
    assert "re-contact within 7 days" in validity.sentence and "less often" in validity.sentence
    # over six months of reviews, the items planted to bring customers back are found ...
    from reportgen.demo.followups import DEFECT_LOG_ODDS

    predicts = retire.numbers["predicts"]
    assert set(predicts) == set(DEFECT_LOG_ODDS)
    assert all("re-contact within 7 days" in on for on in predicts.values())
    # ... and items planted to move nothing are named as candidates to retire, never those
    window = retire.numbers["window"]
    assert (window["first"], window["last"], window["periods"]) == ("2026-04", "2026-09", 6)
    assert retire.numbers["retire"] and not set(retire.numbers["retire"]) & set(DEFECT_LOG_ODDS)
    assert "over April 2026 to September 2026" in retire.sentence
    assert "Candidates to retire." in retire.sentence
    # an absence of effect shown by equivalence tests is not called a change
    assert "a real change" not in retire.sentence
    assert "shown by the data, not just a lack of evidence" in retire.sentence


def test_moderation_decisions_are_checked_against_gold_labels(report) -> None:
    model, pages = report
    ((quality, _),) = _told(model, pages, "moderation_quality")
    assert quality.sentence.startswith("Moderation decisions checked against gold labels in "
                                       "September 2026: precision ")
    assert "clustered by moderator" in quality.sentence
    # the verdict after the change against August is that test's, not the cells' (p >= α)
    change = model.metrics["moderation_precision"].change
    assert change.p_value >= change.alpha and not quality.numbers["significant"]
    assert "in August 2026: within normal variation. " in quality.sentence
    (below,) = quality.numbers["below"]
    assert (below["cell"], below["measure"]) == ("violence / Portuguese", "precision")
    assert below["value"] < 0.75 < 0.95 < below["rest"]
    assert "Violence / Portuguese on precision (" in quality.sentence
    assert "allowing for the 17 cells (policy area x language) compared" in quality.sentence


def test_no_cell_of_two_decisions_reaches_the_summary(report) -> None:
    model, _ = report
    assert all(f.kind != "moderation_quality" for f in model.findings)


def test_the_report_reads_without_the_old_defects(report) -> None:
    # a change in points reads in points; no change reads ±0; each test noted once, under
    # its metric's label
    model, pages = report
    every = " ".join(pages.text)
    assert _flat("Change in re-contacts per 10 QA-score points") in every
    effect = model.metrics["rubric_validity"]
    shown = f"{effect.value * 100:+.1f}".replace("-", "\u2212") + "pts"
    assert shown in every and shown.replace("pts", "%") not in every
    assert "(±0.0%)" not in every and "±0(" not in every
    assert "precision:precision" not in every
    (note,) = [n for n in model.stat_notes if n.label == "Enforcement precision"]
    assert re.fullmatch(r"p [=<] [0-9.]+ against August 2026; p [=<] [0-9.]+ for "
                        r"violence / Portuguese on precision", note.detail)
    assert _flat(f"{note.number}. Enforcement precision: p ") in every


def test_the_summary_says_csat_will_miss_its_target_for_the_year(report) -> None:
    model, pages = report
    ((projection, (page, _, _)),) = _told(model, pages, "csat_year_projection")
    assert page == 1 and projection in model.findings  # the executive summary
    assert projection.numbers["status"] == "unlikely" and projection.numbers["high"] < 0.85
    assert projection.sentence.startswith("Yearly CSAT is unlikely to reach its 85.0% target "
                                          "for 2026: projected at ")


def test_billing_refund_contacts_are_unusual_for_the_time_of_year(report) -> None:
    model, pages = report
    ((anomaly, _),) = _told(model, pages, "billing_refund_contacts_unusual")
    band = model.metrics["refund_contacts"].details["anomaly"]
    assert band["outside"] and band["value"] > band["high"] and band["periods"] == 35
    assert len(model.metrics["refund_contacts"].history) == 36  # its own three years
    assert len(model.metrics["csat"].history) == 13  # the report's thirteen months
    assert anomaly.sentence.startswith("Billing refund volume was unusually high in September "
                                       "2026: ")
    assert "from a seasonal baseline of 35 months with a trend" in anomaly.sentence
