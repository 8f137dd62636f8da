"""The claim checker: every number of a report's sentences is traceable to its model, and
shown arithmetic agrees with the shown values; a sentence changed by hand is caught, located.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from support.demo_models import demo_model
from support.random_reports import random_definition

from reportgen.report.claim_arithmetic import relations
from reportgen.report.claim_values import NUMBER, Pool, headline_values, structure_counts
from reportgen.report.claims import (
    STRICT_ENV,
    ClaimError,
    check_claims,
    claims_of,
    enforce_claims,
)

MQR = ("monthly_quality_report.yaml", "2026-09")
QBR = ("qbr.yaml", "2026-Q3")


def _numbers_in(model) -> int:
    """How many number tokens the checker read (a check of nothing would pass anything)."""
    from reportgen.report.claims import NUMBER, claims_of

    return sum(len(NUMBER.findall(c.sentence)) for c in claims_of(model))


@pytest.mark.parametrize("config", [MQR, QBR], ids=["mqr", "qbr"])
def test_every_number_of_the_demo_reports_is_traced_to_the_model(demo_dir, config):
    model = demo_model(demo_dir, *config)
    assert model.sections and any(s.figures for s in model.sections)
    assert _numbers_in(model) > 300
    problems = check_claims(model)
    assert problems == [], "\n".join(map(str, problems))


def test_every_queue_report_of_the_fan_out_is_traced_to_its_model(demo_fanout,
                                                                   demo_fanout_drawn):
    """The queue reports as they are rendered: with their charts, whose captions and alt
    texts are sentences like any other."""
    _, built = demo_fanout
    reports = [drawn.model for _, drawn in demo_fanout_drawn]
    assert len(reports) == 10
    for model in reports:
        figures = [f for s in model.sections for f in s.figures]
        assert figures and all(f.caption and f.alt_text for f in figures), model.title
        captions = [c for c in claims_of(model) if " figure " in c.where]
        assert sum(len(NUMBER.findall(c.sentence)) for c in captions) > 50, model.title
    for model in [built.whole.model, *reports]:
        assert _numbers_in(model) > 100, model.title
        problems = check_claims(model)
        assert problems == [], f"{model.title}:\n" + "\n".join(map(str, problems))


def test_fifty_seeded_random_reports_state_only_traceable_numbers(tmp_path, monkeypatch):
    """Small random definitions (calculators, breakdowns, targets, locales, settings) over
    their own generated tickets; only the model is built (no document is rendered)."""
    from reportgen.definition import load_definition
    from reportgen.period import Period
    from reportgen.run.build import build_report

    monkeypatch.setenv(STRICT_ENV, "0")  # collect every problem here instead of the first
    september = Period.parse("2026-09", "month", "Europe/Berlin")
    found: list[str] = []
    findings = locales = 0
    seen_locales: set[str] = set()
    for seed in range(50):
        loaded = load_definition(random_definition(tmp_path / str(seed), seed))
        model = build_report(loaded, september, now=datetime(2026, 10, 2, 7, tzinfo=UTC)).model
        findings += len(model.findings) + sum(len(s.findings) for s in model.sections)
        seen_locales.add(model.locale)
        found += [f"seed {seed}: {p}" for p in check_claims(model)]
    locales = len(seen_locales)
    assert findings > 100 and locales >= 3  # the reports say things, in several languages
    assert found == [], "\n".join(found)


def _altered(model, where: str, old: str, new: str):
    """``model`` with ``old`` replaced by ``new`` in the first finding whose sentence has it."""
    def edit(findings):
        out, done = [], False
        for f in findings:
            if not done and old in f.sentence:
                f, done = replace(f, sentence=f.sentence.replace(old, new, 1)), True
            out.append(f)
        return tuple(out), done

    if where == "summary":
        findings, done = edit(model.findings)
        assert done
        return replace(model, findings=findings)
    sections = []
    changed = False
    for section in model.sections:
        findings, done = edit(section.findings) if not changed else (section.findings, False)
        changed = changed or done
        sections.append(replace(section, findings=findings))
    assert changed
    return replace(model, sections=tuple(sections))


def _plain_finding(model):
    """A summary finding with a shown rate and no shown arithmetic, and that rate."""
    first = next(f for f in model.findings if re.search(r"\d+\.\d%", f.sentence)
                 and not list(relations(f.sentence, "en")))
    return first, re.search(r"\d+\.\d%", first.sentence).group()


def test_a_number_changed_by_hand_is_caught_with_where_it_is(demo_dir):
    model = demo_model(demo_dir, *MQR)
    first, token = _plain_finding(model)
    altered = _altered(model, "summary", token, "9,876.5%")
    problems = check_claims(altered)
    assert [(p.where, p.number) for p in problems] == [
        (f"summary finding {first.metric_id}/{first.kind}", "9,876.5")]
    assert "9,876.5%" in problems[0].sentence and "no value of the model" in str(problems[0])


def test_a_count_changed_to_another_count_of_the_report_is_caught(demo_dir):
    """"5 of 8 categories" changed by hand to "7 of 8": 7 is a count elsewhere in the report
    (of findings, sections, actions, a metric's segments), so the number alone would be
    traced; the pair is not one the sentence's subject states."""
    model = demo_model(demo_dir, *MQR)
    of = re.compile(r"(?<![\w.,])(\d+) of (?:the )?(\d+)(?![\w.,]\d)")
    found = [(where, f, m) for where, findings in (
        ("summary", model.findings), ("section", [f for s in model.sections for f in s.findings]))
        for f in findings for m in [of.search(f.sentence)] if m]
    assert found, "the demo MQR states a count of a whole"
    where, finding, match = found[0]
    count, whole = int(match.group(1)), int(match.group(2))
    # the report's own counts and headline figures, which any sentence may cite
    registered = [*structure_counts(model), *headline_values(model.metrics.values())]
    others = sorted({int(v) for v in registered if float(v).is_integer()
                     and 0 < v < whole and v != count})
    assert others, registered
    other = others[-1]
    assert Pool(registered).holds(str(other), "en")  # alone, the number is traced
    edited = match.group().replace(match.group(1), str(other), 1)
    problems = check_claims(_altered(model, where, match.group(), edited))
    prefix = "summary" if where == "summary" else next(
        f"section {s.id}" for s in model.sections if finding in s.findings)
    assert [(p.where, p.number) for p in problems] == [
        (f"{prefix} finding {finding.metric_id}/{finding.kind}", str(other))]
    assert edited in problems[0].sentence and f"stated with {whole}" in problems[0].compared


def test_a_difference_made_inconsistent_is_caught(demo_dir):
    model = demo_model(demo_dir, *MQR)
    changed = re.compile(r"(fell|rose) (\d+\.\d) points to (\d+\.\d)%[^,]*, from (\d+\.\d)%")
    section = next(s for s in model.sections
                   if any(changed.search(f.sentence) for f in s.findings))
    finding = next(f for f in section.findings if changed.search(f.sentence))
    match = changed.search(finding.sentence)
    to, before = Decimal(match.group(3)), Decimal(match.group(4))
    wrong = abs(to - before) + Decimal("0.2")
    edited = match.group().replace(f" {match.group(2)} points", f" {wrong} points", 1)
    problems = check_claims(_altered(model, "section", match.group(), edited))
    assert len(problems) == 1
    problem = problems[0]
    assert problem.where == f"section {section.id} finding {finding.metric_id}/{finding.kind}"
    assert problem.number == str(wrong)
    assert f"which is {abs(to - before)}" in problem.compared


def test_strict_raises_with_the_located_message_and_production_logs_it(
        demo_dir, monkeypatch, caplog):
    model = demo_model(demo_dir, *MQR)
    _, token = _plain_finding(model)
    altered = _altered(model, "summary", token, "9,876.5%")
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(ClaimError, match=r"summary finding .*'9,876\.5' is no value"):
        enforce_claims(altered)
    monkeypatch.setenv(STRICT_ENV, "0")
    with caplog.at_level(logging.WARNING, logger="reportgen.report.claims"):
        assert len(enforce_claims(altered)) == 1
    assert "9,876.5" in caplog.text and "summary finding" in caplog.text


@pytest.mark.parametrize(("sentence", "result", "expected"), [
    # the examples of rounded-then-subtracted numbers readers found
    ("QA score rose 8.1 points more in Onboarding (+7.8 points) than in Account Access "
     "(−0.4 points)", "8.1", "8.2"),
    ("One-touch resolution rose 3.1 points to 58.1% in September 2026, from 55.1% in "
     "September 2025", "3.1", "3"),
    ("rose 2.7 points after the change: 80.0 before, 82.6 after", "2.7", "2.6"),
    ("CSAT has been off target: 78.2% in September 2026, 6.9 points below the 85.0% target",
     "6.9", "6.8"),
    ("volume was high: 538, 84 above its expected range of 315–453", "84", "85"),
    # (dates are read as names before the arithmetic: none is left between the count and
    # its share)
    ("31 of 138 dissatisfied comments (23%)", "23", "22.463768"),
])
def test_shown_arithmetic_that_does_not_add_up_is_found(sentence, result, expected):
    found = [(number, said) for _, _, number, said in relations(sentence, "en")]
    assert len(found) == 1
    number, said = found[0]
    assert number.lstrip("+") == result and said is not None
    assert said.endswith(f"which is {expected}")


def test_shown_arithmetic_in_german_reads_the_locale_separators():
    right = "stieg: rose 2,6 points to 80,0% in Q3 2026, from 77,4% in Q2 2026"
    wrong = right.replace("2,6", "2,7")
    assert [said for *_, said in relations(right, "de")] == [None]
    assert [said is not None for *_, said in relations(wrong, "de")] == [True]
