"""Slide headlines cut from a finding's sentence: whole phrases, longest first."""

from __future__ import annotations

from reportgen.text.headline import (
    MIN_WORDS,
    headlines,
    held_headlines,
    leader_headlines,
    mix_headlines,
    range_headlines,
    target_headlines,
    with_cause,
    within_cause,
)

CHANGE = ("CSAT fell 2.6 points to 80.0% in Q3 2026, from 82.6% in Q2 2026: a real change, "
          "not noise. The mix of channels accounts for little of it.")
INTERVENTION = ("Onboarding coaching programme (from Jun 1, 2026, for the Onboarding queue): QA "
                "score rose 7.7 points, from 78.7 before (n = 526) to 86.4 after (n = 240).")


def test_headlines_keep_the_claim_and_drop_the_verdict_and_later_sentences() -> None:
    found = headlines(CHANGE, verdicts=("a real change, not noise",))
    assert found[0] == "CSAT fell 2.6 points to 80.0% in Q3 2026, from 82.6% in Q2 2026"
    assert found[-1] == "CSAT fell 2.6 points to 80.0% in Q3 2026"
    assert not any("noise" in h or "mix" in h for h in found)


def test_headlines_are_longest_first_and_every_cut_falls_between_words() -> None:
    sentence_words = set(CHANGE.replace(",", " ").replace(":", " ").split())
    found = headlines(CHANGE, verdicts=("a real change, not noise",))
    assert [len(h) for h in found] == sorted((len(h) for h in found), reverse=True)
    for headline in found:
        words = headline.replace(",", " ").replace(":", " ").split()
        assert set(words) <= sentence_words, headline  # no word was cut in two
        assert len(words) >= MIN_WORDS
        assert not headline.endswith((",", ":", " to", " from", " in"))


def test_asides_in_brackets_go_before_the_claim_is_cut() -> None:
    found = headlines(INTERVENTION)
    assert "Onboarding coaching programme: QA score rose 7.7 points" in found
    # A headline is never only the aside or the name before it: it says what happened.
    assert all(("rose" in h) for h in found)


def test_the_period_the_footer_names_can_be_left_out() -> None:
    found = headlines(CHANGE, verdicts=("a real change, not noise",), period="Q3 2026")
    assert "CSAT fell 2.6 points to 80.0%, from 82.6% in Q2 2026" in found
    assert "CSAT fell 2.6 points to 80.0%" in found


def test_a_sentence_with_nothing_to_state_gives_no_headline() -> None:
    assert headlines("") == ()
    assert headlines("See the appendix.") == ()


def test_a_metric_that_held_is_said_with_its_previous_value_and_target() -> None:
    assert held_headlines("QA score", 81.44, 81.14, "Q2 2026", "score", 82.0) == (
        "QA score held at 81.4 against 81.1 in Q2 2026, below the 82.0 target",
        "QA score held at 81.4 against 81.1 in Q2 2026")
    assert held_headlines("FRT", 4.3, 4.2, "Q2 2026", "minutes") == (
        "FRT held at 4.3 minutes against 4.2 minutes in Q2 2026",)


def test_a_breakdown_s_leader_is_written_as_its_bar_is_labelled() -> None:
    assert leader_headlines("Appeal overturn rate", "Harassment", 0.2445, "percent",
                            decimals=0) == ("Harassment has the highest appeal overturn rate: 24%",)
    assert leader_headlines("Tickets created", "Chat", 5304, "count", 14004) == (
        "Chat has the most tickets created: 5,304 of 14,004",
        "Chat has the most tickets created: 5,304")


def test_a_cause_follows_every_headline_and_the_bare_headlines_stay_as_fallbacks() -> None:
    found = ("CSAT fell 2.6 points to 80.0% in Q3 2026", "CSAT fell 2.6 points")
    caused = with_cause(found, within_cause("Chat", "channel", 0.62))
    assert caused == ("CSAT fell 2.6 points to 80.0% in Q3 2026, most of it in the Chat channel",
                      "CSAT fell 2.6 points, most of it in the Chat channel", *found)
    assert within_cause("Chat", "channel", 0.4) == "led by the Chat channel"


def test_a_distribution_is_said_by_its_best_and_worst_shares() -> None:
    assert mix_headlines("CSAT", "5", 0.583, "1", 0.095) == (
        "58.3% of CSAT responses rated 5, 9.5% rated 1", "58.3% of CSAT responses rated 5")


def test_a_breakdown_against_its_target_counts_the_segments_off_it_else_at_risk() -> None:
    off = [("Social", 0.788), ("Email", 0.829)]
    assert target_headlines("channels", 4, 0.85, "percent", "below", off, decimals=0) == (
        "2 of 4 channels are off the 85.0% target: Social (79%) and Email (83%)",
        "2 of 4 channels are off the 85.0% target, Social lowest at 79%",
        "2 of 4 channels are off the 85.0% target")
    risk = [("Harassment", 0.2445), ("Misinformation", 0.2222)]
    assert target_headlines("policy areas", 6, 0.2, "percent", "above", [], risk, 0)[1] == \
        "2 of 6 policy areas are at risk of missing the 20.0% target, Harassment highest at 24%"
    assert target_headlines("queues", 2, 0.85, "percent", "below",
                            [("Billing", 0.79), ("Returns", 0.83)], decimals=0)[1] == \
        "All 2 queues are off the 85.0% target, Billing lowest at 79%"
    assert target_headlines("queues", 3, 82, "score", "below", [("Billing", 80.4)])[-1] == \
        "1 of 3 queues is off the 82.0 target"
    assert target_headlines("queues", 3, 82, "score", "below", []) == (
        "All 3 queues meet the 82.0 target",)
    # a table's title names the metric whose target it is
    assert target_headlines("queues", 3, 82, "score", "below", [("Billing", 80.4)],
                            label="QA score")[-1] == "1 of 3 queues is off the 82.0 QA score target"


def test_a_table_without_a_target_is_said_by_its_highest_and_lowest_rows() -> None:
    assert range_headlines("Defect rate", ("Process followed", 0.115), ("Data protection", 0.014),
                           "percent") == (
        "Process followed has the highest defect rate: 11.5%, Data protection the lowest: 1.4%",
        "Process followed has the highest defect rate: 11.5%")
    assert range_headlines("Tickets created", ("Chat", 5304), ("Social", 310), "count")[0] == \
        "Chat has the most tickets created: 5,304, Social the fewest: 310"
