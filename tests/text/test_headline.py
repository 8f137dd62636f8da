"""Slide headlines cut from a finding's sentence: whole phrases, longest first."""

from __future__ import annotations

from reportgen.text.headline import MIN_WORDS, headlines

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
