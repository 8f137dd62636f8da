"""What customers say: tokens, personal-data masking and the log-odds ranking of terms."""

from __future__ import annotations

import math
import textwrap

import pandas as pd
import pytest

from reportgen.metrics import calculator
from reportgen.metrics.base import HistoryFrames
from reportgen.metrics.comment_text import scrub, terms, words
from reportgen.metrics.text_themes import ThemeParams, log_odds, themes
from reportgen.period import Period

AUG = Period.parse("2026-08", "month", "UTC")
SEP = Period.parse("2026-09", "month", "UTC")


# --- the method ----------------------------------------------------------------------------

def test_log_odds_with_an_informative_prior_matches_a_hand_derivation():
    # Monroe, Colaresi & Quinn (2008), section 3.5, with a_w the background counts:
    # refund: y^d = 8 of n^d = 10, y^s = 1 of n^s = 10, a_w = 9 of a_0 = 20.
    #   delta = log((8 + 9) / (10 + 20 - 8 - 9)) - log((1 + 9) / (10 + 20 - 1 - 9))
    #         = log(17 / 13) - log(10 / 20) = 0.9614
    #   var   = 1 / (8 + 9) + 1 / (1 + 9) = 0.1588, z = 0.9614 / 0.3985 = 2.412
    scored = log_odds({"refund": 8, "great": 2}, {"refund": 1, "great": 9},
                      {"refund": 9, "great": 11}, prior_strength=20)
    delta, z = scored["refund"]
    assert delta == pytest.approx(math.log(17 / 13) - math.log(10 / 20))
    assert delta == pytest.approx(0.9614, abs=1e-4)
    assert z == pytest.approx(2.412, abs=1e-3)
    # great: log((2 + 11) / (30 - 13)) - log((9 + 11) / (30 - 20)) = log(13/17) - log(2)
    assert scored["great"][0] == pytest.approx(math.log(13 / 17) - math.log(2))
    assert scored["great"][1] < 0  # typical of the satisfied


def test_with_a_vanishing_prior_the_estimate_is_the_plain_log_odds_ratio():
    # a_0 -> 0 leaves log((y^d / (n^d - y^d)) / (y^s / (n^s - y^s))) = log((8/2) / (1/9)).
    scored = log_odds({"refund": 8, "great": 2}, {"refund": 1, "great": 9},
                      {"refund": 9, "great": 11}, prior_strength=1e-9)
    assert scored["refund"][0] == pytest.approx(math.log(36), rel=1e-6)


def test_the_prior_shrinks_a_term_seen_twice_below_a_term_seen_often():
    target = {"often": 40, "twice": 2, "other": 58}
    other = {"often": 5, "twice": 0, "other": 95}
    scored = log_odds(target, other, {"often": 45, "twice": 2, "other": 153}, 200)
    assert scored["often"][1] > scored["twice"][1] > 0


# --- words and personal data ---------------------------------------------------------------

def test_words_are_unicode_letters_casefolded():
    assert words("Straße, ΚΑΛΗ μέρα! Привет… don't 42 x2") == [
        "strasse", "καλη", "μέρα", "привет", "don't", "x"]
    assert terms("退款政策不公平") == {"退款政策不公平"}  # a script without spaces is kept whole


def test_phrases_do_not_span_sentences_or_masked_data():
    found = terms("Refund policy is unfair. Great agent, Maria helped")
    assert {"refund policy", "refund", "policy", "unfair", "great agent"} <= found
    assert "unfair great" not in found and "maria" not in found and "agent maria" not in found


@pytest.mark.parametrize("raw, hidden, masked", [
    ("Write to jane.doe@example.co.uk please.", "jane.doe", "[e-mail]"),
    ("Call me on +1 512 555 0199 today.", "555 0199", "[phone]"),
    ("Call me on (030) 123-4567.", "123-4567", "[phone]"),
    ("See https://example.com/t/123?x=1 again", "example.com", "[link]"),
    ("Thanks to Maria for the help.", "Maria", "[name]"),
    ("Mr. Okafor was rude.", "Okafor", "[name]"),
])
def test_scrub_masks_personal_data(raw, hidden, masked):
    clean = scrub(raw)
    assert hidden not in clean and masked in clean


def test_scrub_keeps_the_words_that_open_sentences_and_order_numbers_short_of_a_phone():
    assert scrub("Refund refused. I waited 14 days for order 12345.") == \
        "Refund refused. I waited 14 days for order 12345."


# --- the calculator ------------------------------------------------------------------------

def _comments(rows: list[tuple[int, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["rating", "comment"])


UNHAPPY = [(1, "The new refund policy is unfair, write to ann@example.com"),
           (2, "No refund after 14 days, call +44 20 7946 0958"),
           (1, "Refund refused, very disappointed"),
           (2, "Slow answer"), (1, "Refund policy again"), (2, "Waited for a refund")]
HAPPY = [(5, "Great help, thank you"), (5, "Quick and friendly"), (4, "Slow answer but fine"),
         (5, "Great agent")] * 3


def test_the_distinguishing_term_leads_with_its_counts_and_scrubbed_quotes():
    frame = _comments(UNHAPPY + HAPPY)
    found = themes(frame, ThemeParams(min_count=2, min_z=0.0, quotes=2))
    top = found["terms"][0]
    assert top["term"] == "refund"
    assert (top["count"], top["satisfied_count"]) == (5, 0)
    assert found["dissatisfied"] == 6 and found["satisfied"] == 12
    assert top["share"] == pytest.approx(5 / 6)
    assert all("@" not in q and "7946" not in q for q in top["quotes"])
    assert "slow" not in {t["term"] for t in found["terms"]}  # said by both groups alike
    # 'refund policy' holds 2 of refund's 5 comments: a separate theme is not implied
    assert [t["term"] for t in found["terms"]].count("refund") == 1


def test_quotes_mask_personal_data_even_when_every_comment_carries_some():
    frame = _comments([(1, f"Refund refused, reach me at user{i}@example.org or +1 512 555 01{i:02d}")
                       for i in range(6)] + HAPPY)
    (term, *_) = themes(frame, ThemeParams(min_count=2, min_z=0.0, quotes=3))["terms"]
    assert term["quotes"] and all("[e-mail]" in q and "[phone]" in q for q in term["quotes"])
    assert not any("example.org" in q or "555" in q for q in term["quotes"])


def test_the_change_is_against_last_periods_dissatisfied_comments():
    now = _comments(UNHAPPY + HAPPY)
    before = _comments([(1, "Slow answer"), (2, "Refund please"), (1, "Slow again"),
                        (2, "Nobody answered")] + HAPPY)
    history = HistoryFrames([AUG, SEP], {AUG.key: before, SEP.key: now}, SEP)
    found = themes(now, ThemeParams(min_count=2, min_z=0.0), history)
    top = found["terms"][0]
    assert top["term"] == "refund" and top["previous_share"] == pytest.approx(1 / 4)
    assert top["previous_count"] == 1 and found["previous_dissatisfied"] == 4


def test_the_value_is_the_number_of_comments_read():
    frame = _comments(UNHAPPY + HAPPY + [(5, ""), (3, None)])
    calc = calculator("comment_themes")
    assert calc.estimate(frame, calc.Params()).value == len(UNHAPPY) + len(HAPPY)


def test_a_comment_column_marked_personal_needs_permission(write_definition, capsys):
    from reportgen.cli import main

    text = textwrap.dedent("""
        id: voices
        title: Voices
        period: {grain: month, timezone: UTC}
        sources:
          responses:
            kind: csv
            path: responses.csv
            time_column: responded_at
            columns: {rating: int, comment: str}
            pii: [comment]
        metrics:
          - id: themes
            label: Comments
            calculator: comment_themes
            source: responses
        sections:
          - {id: voc, title: Voices, kpis: [themes]}
        """)
    path = write_definition(text)
    (path.parent / "responses.csv").write_text("responded_at,rating,comment\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "report.yaml:12:5" in err and "reads column 'comment'" in err and "allow_pii" in err
    allowed = write_definition(text + "privacy:\n  allow_pii: [comment]\n", "allowed.yaml")
    assert main(["validate", str(allowed)]) == 0


@pytest.mark.parametrize("cell", ["1" * 200_000 + "a", "a." * 100_000, "Ab " * 70_000,
                                  "x@" * 100_000])
def test_a_hostile_comment_is_read_in_bounded_time(cell):
    import time

    frame = _comments([(1, cell)] * 3 + HAPPY)
    started = time.perf_counter()
    themes(frame, ThemeParams(min_count=1, min_z=0.0))
    # Quadratic matching would take minutes on these; linear work on the capped text is fast.
    assert time.perf_counter() - started < 5


# --- themes as phrases ---------------------------------------------------------------------

# Six dissatisfied customers write "password reset"; a seventh says "password" alone, so the
# phrase holds 6 of the word's 7 comments and stands for it.  "refund" is said five times,
# never twice in the same phrase, so no phrase beats it and the word stays a theme.
PASSWORD = [(1, "Password reset link never arrived"), (2, "The password reset failed again"),
            (1, "Password reset does nothing"), (2, "Tried the password reset twice"),
            (1, "Password reset screen is broken"), (2, "My password reset keeps failing"),
            (1, "Forgot my password")]
REFUND = [(1, "Refund refused"), (2, "No refund yet"), (1, "Where is my refund"),
          (2, "Refund still missing"), (1, "Waiting on a refund")]


def test_a_planted_phrase_is_the_theme_with_its_exact_count_and_its_words_are_not_repeated():
    frame = _comments(PASSWORD + REFUND + [(2, "Slow answer")] + HAPPY)
    found = themes(frame, ThemeParams(min_count=2, min_z=0.0, quotes=1))
    reported = {t["term"]: t for t in found["terms"]}
    assert reported["password reset"]["count"] == 6
    assert reported["password reset"]["satisfied_count"] == 0
    assert reported["password reset"]["share"] == pytest.approx(6 / 13)
    # subsumed by the phrase: neither word is a theme of its own
    assert "password" not in reported and "reset" not in reported
    # said in five different phrases, the word stays
    assert reported["refund"]["count"] == 5
    assert not any(t != "refund" and "refund" in t.split() for t in reported)


def test_a_word_stays_only_when_no_phrase_holding_it_is_stronger():
    from reportgen.metrics.theme_selection import select_terms

    users = {"delay": frozenset(range(10)), "refund delay": frozenset(range(4)),
             "delivery delay": frozenset(range(4, 7)), "late": frozenset(range(20, 26)),
             "late reply": frozenset(range(20, 22))}
    # 'refund delay' holds 4 of 10 'delay' comments and scores lower: the word stays, and
    # the phrases inside its comments are the same theme said again
    z = {"delay": 4.0, "refund delay": 3.0, "delivery delay": 2.5, "late": 2.4,
         "late reply": 2.6}
    ranked = sorted(z, key=lambda t: -z[t])
    assert select_terms(ranked, users, z, top=5) == ["delay", "late reply"]
    # a phrase scoring higher than its word stands for it even with few of its comments
    assert select_terms(ranked, users, {**z, "refund delay": 4.5}, top=5)[:1] == ["refund delay"]
    assert "delay" not in select_terms(ranked, users, {**z, "refund delay": 4.5}, top=5)
    # a phrase holding half of its word's comments stands for it even when scoring lower
    assert select_terms(ranked, {**users, "refund delay": frozenset(range(5))}, z, top=5) == [
        "refund delay", "late reply", "delivery delay"]


def test_no_quote_nor_a_near_duplicate_is_given_twice_across_themes():
    unhappy = [(1, "Refund policy unfair, I want my money back."),
               (2, "The refund policy is unfair!"), (1, "the refund policy is unfair"),
               (1, "Refund policy changed, money back never came."),
               (2, "No money back after the refund policy change."),
               (1, "Money back denied."), (2, "Money back took weeks.")]
    found = themes(_comments(unhappy + HAPPY), ThemeParams(min_count=2, min_z=0.0, quotes=3))
    by_term = {t["term"]: t["quotes"] for t in found["terms"]}
    assert {"refund policy", "money back"} <= set(by_term)
    quoted = [q for t in found["terms"] for q in t["quotes"]]
    assert len(quoted) == len(set(quoted))
    # the two spellings of one comment are near-duplicates: one of them is quoted
    twins = {"The refund policy is unfair!", "the refund policy is unfair"}
    assert len(twins & set(quoted)) == 1
    # each theme still quotes comments that use it, three apiece (enough distinct ones)
    for term, quotes in by_term.items():
        if term in ("refund policy", "money back"):
            assert len(quotes) == 3 and all(term in q.casefold() for q in quotes)


def test_the_trend_against_last_period_is_new_growing_fading_or_steady():
    before = _comments([(1, "Password reset failed"), (2, "Refund refused"),
                        (1, "Refund still missing"), (2, "Refund not paid"),
                        (1, "Nobody answered"), (2, "Slow answer"), (1, "Waited a week"),
                        (2, "Long queue"), (1, "Chat dropped"), (2, "App crashed")] + HAPPY)
    now = _comments(PASSWORD + [(1, "Money back denied"), (2, "Money back please"),
                                (1, "Money back never came"), (2, "Refund refused")] + HAPPY)
    history = HistoryFrames([AUG, SEP], {AUG.key: before, SEP.key: now}, SEP)
    found = themes(now, ThemeParams(min_count=1, min_z=0.0, top=10), history)
    by_term = {t["term"]: t for t in found["terms"]}
    # password reset: 1 of 10 in August, 6 of 11 now -> growing; money back: new
    assert by_term["password reset"]["previous_share"] == pytest.approx(1 / 10)
    assert by_term["password reset"]["trend"] == "growing"
    assert by_term["money back"]["trend"] == "new"
    from reportgen.metrics.theme_selection import trend

    assert trend(0.1, 0.3, compared=True) == "fading"
    assert trend(0.25, 0.3, compared=True) == "steady"
    assert trend(0.25, None, compared=False) is None


HOSTILE = ["<script>alert('refund')</script> refund delay again",
           "{{ 7 * 7 }} {% if x %}refund delay{% endif %} ${HOME}",
           "😡😡 refund delay 🙄 " + "ok " * 3000, "refund delay " * 40_000]


def test_hostile_comments_are_read_in_linear_time_and_quoted_as_text():
    import time

    frame = _comments([(1, c) for c in HOSTILE] * 3 + HAPPY)
    started = time.perf_counter()
    found = themes(frame, ThemeParams(min_count=2, min_z=0.0, quotes=5, quote_chars=60))
    small = time.perf_counter() - started
    top = found["terms"][0]
    assert top["term"] == "refund delay" and top["count"] == 12
    assert all(len(q) <= 62 for q in top["quotes"])
    # quotes keep the characters as written (escaping is the renderer's job, checked in
    # tests/insights/test_insights_themes.py), cut at a word
    assert "<script>alert('refund')</script> refund delay again" in top["quotes"]
    # ten times the comments take about ten times as long, not a hundred
    frame = _comments([(1, c) for c in HOSTILE] * 30 + HAPPY)
    started = time.perf_counter()
    themes(frame, ThemeParams(min_count=2, min_z=0.0, quotes=5, quote_chars=60))
    assert time.perf_counter() - started < 30 * max(small, 0.05)
