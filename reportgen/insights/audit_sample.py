"""Findings about the audit sample itself (``audit_sample``): its size, its skips, its mix.

================  =========================================================================
kind              what it says
================  =========================================================================
audit_shortfall   the groups (queues, agents) audited fewer times than the KPI's interval of
                  the wanted half-width needs (finite-population corrected), or that every
                  group was audited enough
audit_skips       how many drawn items reviewers skipped or replaced, and in which compared
                  columns skipped items differ from audited ones (Holm across columns)
audit_mix         whether the audited items' mix of strata matches the population's (chi-
                  square; strata named by Fisher's exact test, Holm across strata), and when it
                  does not, the KPI reweighted to the population's mix beside the audits' own
================  =========================================================================

The figures come from the calculator's ``details``; nothing is recomputed from rows here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reportgen import text
from reportgen.insights.context import InsightContext
from reportgen.insights.severity import magnitude
from reportgen.insights.text import (
    breakdown_noun,
    join_names,
    p_text,
    plural,
    plural_noun,
    value_text,
)
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.sections import Finding
from reportgen.text.number import DURATION_WORDS

#: Groups named in a sentence; the rest are counted ("and 3 more").
NAMED = 4


def audit_sample_findings(ctx: InsightContext) -> list[Finding]:
    """Every audit-sample finding of the period."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        if metric.calculator != "audit_sample" or not metric.details:
            continue
        if not metric.details.get("population"):
            continue  # no items in the period: the tile says "no data"
        for found in (size_finding(ctx, metric), skip_finding(ctx, metric),
                      mix_finding(ctx, metric)):
            if found is not None:
                out.append(found)
    return out


def _unit(details: Mapping[str, Any]) -> str:
    return "percent" if details["kpi"] == "rate" else "score"


def _items(details: Mapping[str, Any]) -> str:
    return plural_noun(str(details["item_noun"]))


def _goal(details: Mapping[str, Any], whose: str = "the") -> str:
    """``the pass rate within ±5 points at 95% confidence`` (``whose``: the, its)."""
    width = float(details["half_width"]) * (100 if details["kpi"] == "rate" else 1)
    return (f"{whose} {details['kpi_label']} within ±{text.plain(round(width, 6))} points at "
            f"{text.percent(float(details['confidence']), 0)} confidence")


def _name(value: str, column: str | None = None) -> str:
    """A group or category as people name it: ``Chat``, ``Billing``, ``Agent A07``."""
    if column is not None and column.endswith("_id"):
        return f"{breakdown_noun(column).capitalize()} {value}"
    return text.value_label(value)


# --- size ---------------------------------------------------------------------------------


def size_finding(ctx: InsightContext, metric: MetricResult) -> Finding | None:
    details = metric.details
    size = details["size"]
    column = details.get("group_column")
    noun = breakdown_noun(column) if column else ""
    scope = f"by {column}" if column else "overall"
    period = ctx.period.label
    if size["planning_value"] is None:
        sentence = (f"The audit sample of {period} cannot be sized for {_goal(details)}: the "
                    f"audited {details['kpi_label']} values show no spread to plan on.")
        return ctx.finding("audit_shortfall", metric, scope, sentence,
                           numbers={"short": None, "planning": size["planning"]})
    groups: Sequence[Mapping[str, Any]] = size["groups"] if column else [
        {"group": "", **size["overall"]}]
    short = sorted((g for g in groups if g["shortfall"]),
                   key=lambda g: (-g["shortfall"], g["group"]))
    numbers = {"short": len(short), "groups": len(groups), "goal": details["half_width"],
               "confidence": details["confidence"], "planning_value": size["planning_value"],
               "planning": size["planning"],
               "named": [{"group": g["group"], "audits": g["audits"], "required": g["required"]}
                         for g in short[:NAMED]]}
    unit = _unit(details)
    if not column:
        overall = size["overall"]
        done = f"{text.count(overall['audits'])} {_items(details)} were audited in {period}"
        of = f"of {text.count(overall['population'])} {_items(details)}"
        sentence = (f"{done}; {text.count(overall['required'])} are needed for {_goal(details)} "
                    f"({of})." if short else
                    f"{done}, enough for {_goal(details)} ({text.count(overall['required'])} "
                    f"needed {of}).")
    elif not short:
        closest = min(groups, key=lambda g: (g["audits"] - (g["required"] or 0), g["group"]))
        sentence = (f"Every {noun} was audited often enough in {period} for {_goal(details)} "
                    f"({plural(len(groups), noun)}; the closest: {_name(closest['group'], column)}, "
                    f"{text.count(closest['audits'])} audits for {text.count(closest['required'])} "
                    f"needed).")
    elif len(short) == 1:
        group = short[0]
        achieved = group.get("half_width_achieved")
        gives = (f"; its {text.count(group['audits'])} give ±"
                 f"{text.change_words(achieved, unit)}" if achieved is not None else "")
        sentence = (f"{_name(group['group'], column)} was audited {plural(group['audits'], 'time')} in "
                    f"{period}; {text.count(group['required'])} audits are needed for "
                    f"{_goal(details, 'its')} (of its {text.count(group['population'])} "
                    f"{_items(details)}{gives}).")
    else:
        parts = [f"{_name(g['group'], column)} ({text.count(g['audits'])} of "
                 f"{text.count(g['required'])} needed)" for g in short[:NAMED]]
        if len(short) > NAMED:
            parts.append(f"{len(short) - NAMED} more")
        which = (f"All {plural(len(groups), noun)}" if len(short) == len(groups)
                 else f"{len(short)} of {plural(len(groups), noun)}")
        sentence = (f"{which} were audited too few times in {period} for {_goal(details)}: "
                    f"{join_names(parts)}.")
    return ctx.finding("audit_shortfall", metric, scope, sentence, numbers=numbers,
                       tone="warning" if short else "good",
                       magnitude=len(short) / len(groups) if groups else 0.0)


# --- skips --------------------------------------------------------------------------------


def _difference(row: Mapping[str, Any], family: int) -> str:
    """``are longer than audited ones (median 15 against 9; p < 0.001, allowing for ...)``,
    ``have lower CSAT than audited ones (...)``, ``are more often Chat (...)``."""
    allowing = (f"{p_text(row['p_adjusted'])}, allowing for the "
                f"{plural(family, 'column')} compared")
    if row["kind"] == "categorical":
        value = next(c for c in row["categories"] if c["value"] == row["most_over"])
        return (f"are more often {_name(value['value'])} ({text.share(value['skipped_share'])} "
                f"of skipped against {text.share(value['audited_share'])} of audited; "
                f"{allowing})")
    higher = bool(row["higher"])
    if row["higher_word"]:
        how = f"are {row['higher_word'] if higher else row['lower_word']} than audited ones"
    else:
        how = f"have {'higher' if higher else 'lower'} {row['label']} than audited ones"
    if row["method"] == "Mann-Whitney U" and row["skipped_median"] != row["audited_median"]:
        which, skipped, audited = "median", row["skipped_median"], row["audited_median"]
    else:
        which, skipped, audited = "mean", row["skipped_mean"], row["audited_mean"]
    return (f"{how} ({which} {_number(skipped, row.get('unit'))} against "
            f"{_number(audited, row.get('unit'))}; {allowing})")


def _number(value: float, unit: str | None) -> str:
    """``21.9``, ``11.0 minutes`` (a duration in words), ``3 replies``."""
    if unit is None:
        return text.value(value, "number")
    if unit in DURATION_WORDS:
        return text.value_words(value, unit)
    return f"{text.value(value, 'number')} {unit}"


def skip_finding(ctx: InsightContext, metric: MetricResult) -> Finding | None:
    details = metric.details
    skips = details["skips"]
    items, period = _items(details), ctx.period.label
    if not skips["drawn"]:
        return None
    numbers: dict[str, Any] = {"claim": "difference", **{
        k: skips[k] for k in ("drawn", "skipped", "audited", "share", "low", "high",
                              "by_status")}}
    if not skips["audited"]:
        sentence = (f"All {text.count(skips['drawn'])} {items} drawn for audit in {period} were "
                    f"skipped or replaced: none was audited.")
        return ctx.finding("audit_skips", metric, "skipped", sentence, numbers=numbers,
                           tone="bad", magnitude=1.0)
    if not skips["skipped"]:
        sentence = (f"No {details['item_noun']} drawn for audit in {period} was skipped or "
                    f"replaced ({text.count(skips['drawn'])} drawn).")
        return ctx.finding("audit_skips", metric, "skipped", sentence, numbers=numbers,
                           tone="good")
    bounds = (f"; {text.confidence_label(float(details['confidence']))} "
              f"{text.interval(skips['low'], skips['high'], 'percent')}"
              if skips.get("low") is not None else "")
    sentence = (f"Auditors skipped or replaced {text.count(skips['skipped'])} of the "
                f"{text.count(skips['drawn'])} {items} drawn for audit in {period} "
                f"({value_text(skips['share'], 'percent')}{bounds})")
    if not skips["tested"]:
        sentence += (f": too few to tell whether skipped {items} differ from audited ones "
                     f"(fewer than {skips['min_skipped']}).")
        return ctx.finding("audit_skips", metric, "skipped", sentence, numbers=numbers)
    rows: Sequence[Mapping[str, Any]] = skips["columns"]
    family = int(skips["family_size"])
    differs = [r for r in rows if r["differs"]]
    tested = [r for r in rows if r["p_adjusted"] is not None]
    if differs:
        parts = [_difference(r, family) for r in differs]
        sentence += (f". Skipped {items} {join_names(parts)}. Audit results under-represent "
                     f"such {items}.")
        # the claim rests on every named column: its family-level p is the largest of theirs
        numbers.update(significant=True, p_adjusted=max(r["p_adjusted"] for r in differs))
    elif tested:
        names = join_names([r["label"] for r in tested])
        smallest = min(r["p_adjusted"] for r in tested)
        sentence += (f". Skipped {items} look like audited ones in {names} (smallest "
                     f"{p_text(smallest)}, allowing for the {plural(family, 'column')} "
                     f"compared).")
        numbers.update(significant=False, p_adjusted=smallest)
    else:
        sentence += ": the compared columns have too few values to tell."
    numbers.update(family_size=family, adjustment="Holm",
                   columns=[{k: r.get(k) for k in ("column", "label", "kind", "method",
                                                   "p_value", "p_adjusted", "differs")}
                            for r in rows])
    gap = max((_gap(r) for r in differs), default=0.0)
    return ctx.finding("audit_skips", metric, "skipped", sentence, numbers=numbers,
                       tone="bad" if differs else "neutral", magnitude=gap)


def _gap(row: Mapping[str, Any]) -> float:
    """A column's difference on a 0-1 scale: a category's share gap, or how far the chance
    that a skipped item is the higher of a pair lies from even (Mann-Whitney)."""
    if row["kind"] == "categorical":
        value = next(c for c in row["categories"] if c["value"] == row["most_over"])
        return magnitude((value["skipped_share"] or 0) - (value["audited_share"] or 0), "percent")
    if row.get("superiority") is not None:
        return min(1.0, abs(row["superiority"] - 0.5) * 2)
    return 0.5


# --- mix ----------------------------------------------------------------------------------


def _strata_noun(mix: Mapping[str, Any], count: int) -> str:
    """``3 channels`` or ``12 queue / channel combinations``."""
    columns = list(mix["strata_columns"])
    noun = breakdown_noun(",".join(columns))
    return plural(count, noun) if len(columns) == 1 else plural(count, f"{noun} combination")


def mix_finding(ctx: InsightContext, metric: MetricResult) -> Finding | None:
    details = metric.details
    mix = details["mix"]
    items, period = _items(details), ctx.period.label
    noun = breakdown_noun(",".join(mix["strata_columns"]))
    scope = f"by {','.join(mix['strata_columns'])}"
    rows: Sequence[Mapping[str, Any]] = mix["strata"]
    if not mix["tested"]:
        if mix["reason"] != "too few items audited":
            return None  # nothing audited, one stratum, or a census: no mix to compare
        sentence = (f"Too few {items} were audited in {period} to compare the sample's mix of "
                    f"{noun} with all {items}' ({text.count(mix['audited'])} audited).")
        return ctx.finding("audit_mix", metric, scope, sentence,
                           numbers={"tested": False, "audited": mix["audited"]})
    numbers: dict[str, Any] = {
        "claim": "difference", "tested": True, "representative": mix["representative"],
        "p_value": mix["p_value"], "p_adjusted": mix["p_value"],
        "statistic": mix["statistic"], "df": mix["df"],
        "method": mix["method"], "unweighted": mix["unweighted"],
        "reweighted": mix["reweighted"], "over": [r["stratum"] for r in rows if r["over"]],
        "under": [r["stratum"] for r in rows if r["under"]],
        "significant": not mix["representative"]}
    test = (f"{p_text(mix['p_value'])}, comparing the "
            f"{_strata_noun(mix, len(rows))}")
    if mix["representative"]:
        sentence = (f"The audited {items} match all {items}' mix of {noun} in {period} "
                    f"({text.count(mix['audited'])} audited; {test}).")
        return ctx.finding("audit_mix", metric, scope, sentence, numbers=numbers, tone="good")
    over = [r for r in rows if r["over"]]
    under = [r for r in rows if r["under"]]

    def shares(row: Mapping[str, Any], first: bool) -> str:
        of = (" of audits", f" of {items}") if first else ("", "")
        return (f"{_name(row['stratum'])} ({text.share(row['audited_share'])}{of[0]} against "
                f"{text.share(row['population_share'])}{of[1]})")

    claims = []
    if over:
        claims.append("over-represents " + join_names(
            [shares(r, i == 0) for i, r in enumerate(over)]))
    if under:
        claims.append("under-represents " + join_names(
            [shares(r, not over and i == 0) for i, r in enumerate(under)]))
    if claims:
        sentence = f"The audited sample {' and '.join(claims)} in {period} ({test})."
    else:
        # no stratum stands out alone: name the largest gap, without a parenthesis inside
        # the test's (the report moves a parenthesis holding a p-value to its notes)
        widest = max(rows, key=lambda r: (abs((r["audited_share"] or 0) - r["population_share"]),
                                          r["stratum"]))
        sentence = (f"The audited sample's mix of {noun} differs from all {items}' in {period}, "
                    f"most for {_name(widest['stratum'])}: "
                    f"{text.share(widest['audited_share'] or 0)} of audits against "
                    f"{text.share(widest['population_share'])} of {items} ({test}).")
    sentence += " " + _reweighted_text(details, mix, noun)
    unweighted, reweighted = mix["unweighted"], mix["reweighted"]
    moved = (magnitude(reweighted["value"] - unweighted["value"], _unit(details))
             if reweighted and unweighted else 0.0)
    return ctx.finding("audit_mix", metric, scope, sentence, numbers=numbers, tone="warning",
                       magnitude=moved)


def _reweighted_text(details: Mapping[str, Any], mix: Mapping[str, Any], noun: str) -> str:
    """``Reweighted to all tickets' mix, the pass rate is 85.0% (95% CI ...), against the
    83.1% the audits show.``"""
    unit, items = _unit(details), _items(details)
    label = details["kpi_label"]
    unweighted, reweighted = mix["unweighted"], mix["reweighted"]
    if reweighted is None or unweighted is None:
        return (f"Too few audits per {noun} to reweight the {label} (at least "
                f"{mix['min_stratum_audits']} in a {noun} needed).")
    covered = ""
    if reweighted["coverage"] < 1:
        covered = (f", over the {text.share(reweighted['coverage'])} of {items} in "
                   f"{plural_noun(noun)} with at least {mix['min_stratum_audits']} audits")
    level = text.confidence_label(float(details["confidence"]))
    return (f"Reweighted to all {items}' mix{covered}, the {label} is "
            f"{value_text(reweighted['value'], unit)} ({level} "
            f"{text.interval(reweighted['low'], reweighted['high'], unit)}), against the "
            f"{value_text(unweighted['value'], unit)} the audits show.{_overstated(mix, unit)}")


def _overstated(mix: Mapping[str, Any], unit: str) -> str:
    """`` The audits overstate it by 3.5 points.`` when the reweighting moves the figure a
    point or more as shown (empty otherwise)."""
    moved = text.shown_difference(mix["unweighted"]["value"], mix["reweighted"]["value"], unit)
    if abs(moved) * text.scale(unit) < 1:
        return ""
    return (f" The audits {'overstate' if moved > 0 else 'understate'} it by "
            f"{text.change_words(moved, unit)}.")
