"""An independent floor for the MQR at scale: the same aggregates, charts and PDF, written
plainly with DuckDB, SQLite, matplotlib, Jinja and WeasyPrint, and nothing of reportgen.

    python benchmarks/floor_duckdb.py --data DIR [--format csv|parquet] [--period 2026-09]
        [--tickets-only]

DIR is ``benchmarks/scale_data.py``'s output, read as ``benchmarks/configs/
monthly_quality_report.yaml`` reads it (see benchmarks/README.md, "The independent floor").
Prints one line per stage (wall, CPU, peak RSS), as ``bench_scale.py engine`` does.
``--tickets-only`` runs the one statement over the tickets file (every operations metric
by month, channel and queue in one GROUP BY GROUPING SETS) and nothing else: the floor
of ``benchmarks/configs/tickets_10m.yaml``'s data.
"""

from __future__ import annotations

import argparse
import base64
import io
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_scale import Stages

HERE = Path(__file__).resolve().parent


def months_ending(period: str, count: int = 13) -> list[str]:
    """The ``count`` months ending with ``period``, then the month after them."""
    year, month = (int(p) for p in period.split("-"))
    index = year * 12 + month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 2)]



def file_aggregates(data: Path, fmt: str, start: str, end: str,
                    tickets_only: bool = False) -> dict[str, Any]:
    import duckdb

    conn = duckdb.connect()
    reader = "read_parquet" if fmt == "parquet" else "read_csv"
    tickets = f"{reader}('{data / f'tickets.{fmt}'}')"
    decisions = f"{reader}('{data / f'moderation_decisions.{fmt}'}')"
    window = f"BETWEEN TIMESTAMP '{start}-01' AND TIMESTAMP '{end}-01' - INTERVAL 1 SECOND"
    out: dict[str, Any] = {}
    # one scan of the tickets: every operations metric per month, by channel and by queue
    out["tickets"] = conn.sql(f"""
        SELECT strftime(created_at, '%Y-%m') AS month, channel, queue,
               count(*) AS n, count(*) FILTER (queue IS NULL) AS queue_missing,
               max(created_at) AS latest,
               median(first_response_minutes) AS frt_median,
               count(first_response_minutes) AS frt_n,
               quantile_cont(resolution_hours, 0.9) AS resolution_p90,
               count(resolution_hours) AS resolution_n,
               count(*) FILTER (status = 'solved') AS solved,
               count(*) FILTER (status = 'solved' AND agent_replies <= 1 AND reopened = 0)
                   AS one_touch,
               count(*) FILTER (status = 'solved' AND reopened = 1) AS reopened,
               sum(sla_met) AS sla_met, count(sla_met) AS sla_n,
               avg(handle_minutes) AS aht, var_samp(handle_minutes) AS aht_var
        FROM {tickets} WHERE created_at {window}
        GROUP BY GROUPING SETS ((month), (month, channel), (month, queue))
    """).df()
    if tickets_only:
        conn.close()
        return out
    out["decisions"] = conn.sql(f"""
        SELECT strftime(decided_at, '%Y-%m') AS month, policy_area, action, gold_action,
               count(*) AS n, count(*) FILTER (appealed = 1) AS appealed,
               count(*) FILTER (appealed = 1 AND overturned = 1) AS overturned
        FROM {decisions} WHERE decided_at {window}
        GROUP BY GROUPING SETS ((month), (month, policy_area), (month, action, gold_action))
    """).df()
    conn.close()
    return out



RUBRIC = """
    SELECT review_id, substr(min(reviewed_at), 1, 7) AS month, min(queue) AS queue,
           min(agent_id) AS agent_id,
           CASE WHEN max(critical = 1 AND rating <= scale_min) = 1 THEN 0.0
                ELSE sum(weight * (rating - scale_min) * 100.0 / (scale_max - scale_min))
                     / sum(weight) END AS score
    FROM qa_review_ratings
    WHERE reviewed_at >= :start AND reviewed_at < :end AND rating IS NOT NULL
    GROUP BY review_id
"""

SQL_STATEMENTS = {
    # CSAT, NPS, effort, the rating mix: per month x queue x channel x rating x NPS score
    "responses": """
        SELECT substr(responded_at, 1, 7) AS month, queue, channel, rating, nps_score,
               count(*) AS n, count(effort_score) AS effort_n, sum(effort_score) AS effort_sum,
               sum(effort_score * effort_score) AS effort_sq
        FROM csat_responses WHERE responded_at >= :start AND responded_at < :end
        GROUP BY 1, 2, 3, 4, 5""",
    "responses_weekly": """
        SELECT strftime('%Y-%W', responded_at) AS week, count(*) AS n,
               sum(rating >= 4) AS good
        FROM csat_responses WHERE responded_at >= :start AND responded_at < :end
        GROUP BY 1""",
    "surveys": """
        SELECT substr(t.solved_at, 1, 7) AS month, t.channel, sum(t.survey_sent) AS sent,
               count(r.response_id) FILTER (WHERE t.survey_sent = 1) AS answered
        FROM tickets t LEFT JOIN csat_responses r ON r.ticket_id = t.ticket_id
        WHERE t.solved_at >= :start AND t.solved_at < :end
        GROUP BY 1, 2""",
    # the rubric: per month x queue x agent, the reviews' score sums, squares, passes, fails
    "qa_reviews": f"""
        SELECT month, queue, agent_id, count(*) AS reviews, sum(score) AS score_sum,
               sum(score * score) AS score_sq, sum(score >= 80) AS passed,
               sum(score = 0) AS auto_failed
        FROM ({RUBRIC}) GROUP BY 1, 2, 3""",
    "qa_categories": """
        SELECT substr(reviewed_at, 1, 7) AS month, queue, category, count(rating) AS rated,
               sum((rating - scale_min) * 100.0 / (scale_max - scale_min) <= 50) AS defects
        FROM qa_review_ratings WHERE reviewed_at >= :start AND reviewed_at < :end
        GROUP BY 1, 2, 3""",
    # calibration: each auditor's deviation from the calibrator on the same ticket
    "calibration": """
        SELECT substr(a.session_date, 1, 7) AS month, a.rater_id, count(*) AS n,
               sum(a.review_score - c.review_score) AS bias_sum,
               sum(abs(a.review_score - c.review_score)) AS dev_sum,
               sum((a.review_score - c.review_score) * (a.review_score - c.review_score))
                   AS dev_sq,
               sum(abs(a.review_score - c.review_score) <= 5) AS within
        FROM calibration_reviews a JOIN calibration_reviews c
          ON c.session_id = a.session_id AND c.ticket_id = a.ticket_id AND c.role = 'calibrator'
        WHERE a.role = 'auditor' AND a.session_date >= :start AND a.session_date < :end
        GROUP BY 1, 2""",
    # Krippendorff's alpha: the coincidence matrix, from each unit's counts of each rating
    "alpha": """
        WITH counts AS (
            SELECT substr(session_date, 1, 7) AS month, ticket_id, category, rating,
                   count(*) AS n
            FROM calibration_scores
            WHERE session_date >= :start AND session_date < :end AND rating IS NOT NULL
            GROUP BY 1, 2, 3, 4),
        units AS (SELECT month, ticket_id, category, sum(n) AS m FROM counts GROUP BY 1, 2, 3)
        SELECT a.month, a.rating AS c, b.rating AS k,
               sum(a.n * (b.n - (a.rating = b.rating)) * 1.0 / (u.m - 1)) AS o
        FROM counts a
        JOIN counts b USING (month, ticket_id, category)
        JOIN units u USING (month, ticket_id, category)
        WHERE u.m > 1
        GROUP BY 1, 2, 3""",
}


def sql_aggregates(data: Path, start: str, end: str) -> dict[str, Any]:
    import pandas as pd

    conn = sqlite3.connect(data / "reportgen_demo.sqlite")
    bounds = {"start": f"{start}-01", "end": f"{end}-01"}
    out = {name: pd.read_sql_query(sql, conn, params=bounds)
           for name, sql in SQL_STATEMENTS.items()}
    conn.close()
    return out



def ordinal_alpha(coincidences: Any) -> float:
    """Krippendorff's alpha (ordinal) from a coincidence matrix (rows c, columns k)."""
    import numpy as np

    values = sorted(set(coincidences["c"]) | set(coincidences["k"]))
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for c, k, count in coincidences[["c", "k", "o"]].itertuples(index=False):
        o[index[c], index[k]] += count
    n_c = o.sum(axis=1)
    n = n_c.sum()
    cumulative = np.cumsum(n_c)
    delta = np.zeros_like(o)
    for i in range(len(values)):
        for j in range(len(values)):
            low, high = min(i, j), max(i, j)
            # ordinal: (the counts from c to k, less half of each end's) squared
            between = cumulative[high] - cumulative[low] + n_c[low]
            delta[i, j] = (between - (n_c[low] + n_c[high]) / 2) ** 2 if i != j else 0.0
    observed = (o * delta).sum()
    expected = (np.outer(n_c, n_c) * delta).sum() / (n - 1)
    return float(1 - observed / expected) if expected else float("nan")


def figures(months: list[str], found: dict[str, Any]) -> dict[str, Any]:
    """Every number the report shows, per month (series) and per breakdown (tables)."""
    t = found["tickets"]
    whole = t[t.channel.isna() & t["queue"].isna()].set_index("month").reindex(months)
    r = found["responses"]
    by_month = r.groupby("month").agg(n=("n", "sum"))
    good = r[r.rating >= 4].groupby("month")["n"].sum()
    promoters = r[r.nps_score >= 9].groupby("month")["n"].sum()
    detractors = r[r.nps_score <= 6].groupby("month")["n"].sum()
    effort = r.groupby("month")[["effort_n", "effort_sum", "effort_sq"]].sum()
    q = found["qa_reviews"].groupby("month")[["reviews", "score_sum", "score_sq", "passed",
                                             "auto_failed"]].sum()
    cats = found["qa_categories"]
    cal = found["calibration"].groupby("month")[["n", "bias_sum", "dev_sum", "dev_sq",
                                                  "within"]].sum()
    scored = r[r.nps_score.notna()].groupby("month")["n"].sum()
    d = found["decisions"]
    dm = d[d.policy_area.isna() & d.action.isna()].set_index("month")
    judged = d[d.action.notna() & d.gold_action.notna()]
    s = found["surveys"].groupby("month")[["sent", "answered"]].sum()
    series = {
        "CSAT": (good / by_month.n).reindex(months),
        "NPS": ((promoters - detractors) / scored * 100).reindex(months),
        "Customer effort": (effort.effort_sum / effort.effort_n).reindex(months),
        "Survey response rate": (s.answered / s.sent).reindex(months),
        "QA score": (q.score_sum / q.reviews).reindex(months),
        "QA pass rate": (q.passed / q.reviews).reindex(months),
        "Auto-fail rate": (q.auto_failed / q.reviews).reindex(months),
        "Defect rate": (cats.groupby("month").defects.sum()
                        / cats.groupby("month").rated.sum()).reindex(months),
        "Calibration deviation": (cal.dev_sum / cal.n).reindex(months),
        "Calibration bias": (cal.bias_sum / cal.n).reindex(months),
        "Calibration within tolerance": (cal.within / cal.n).reindex(months),
        "Krippendorff's alpha": found["alpha"].groupby("month").apply(ordinal_alpha)
        .reindex(months),
        "Tickets created": whole.n,
        "First response time (median)": whole.frt_median,
        "Resolution time (P90)": whole.resolution_p90,
        "One-touch resolution": whole.one_touch / whole.solved,
        "Reopen rate": whole.reopened / whole.solved,
        "First-reply SLA met": whole.sla_met / whole.sla_n,
        "Decision accuracy": (judged[judged.action == judged.gold_action].groupby("month").n
                              .sum() / judged.groupby("month").n.sum()).reindex(months),
        "Appeal overturn rate": (dm.overturned / dm.appealed).reindex(months),
    }
    def sd(squares: Any, total: Any, n: Any) -> Any:  # from the sums, as the engine's
        return (((squares - total ** 2 / n) / (n - 1)) ** 0.5).reindex(months)
    series["Customer effort, SD"] = sd(effort.effort_sq, effort.effort_sum, effort.effort_n)
    series["QA score, SD"] = sd(q.score_sq, q.score_sum, q.reviews)
    series["Calibration deviation, SD"] = sd(cal.dev_sq, cal.dev_sum, cal.n)
    current = months[-1]
    rc = r[r.month == current]
    tables = {
        "CSAT by queue": _rate(rc, "queue", rc.rating >= 4),
        "CSAT by channel": _rate(rc, "channel", rc.rating >= 4),
        "Survey response rate by channel": found["surveys"][found["surveys"].month == current]
        .assign(rate=lambda f: f.answered / f.sent)[["channel", "sent", "rate"]]
        .rename(columns={"sent": "n"}).set_index("channel"),
        "QA score by queue": _mean(found["qa_reviews"], current, "queue"),
        "QA score by agent": _mean(found["qa_reviews"], current, "agent_id"),
        "Defect rate by category": _defects(cats, current, ["category"]),
        "Defect rate by queue and category": _defects(cats, current, ["queue", "category"]),
        "Tickets by channel": t[(t.month == current) & t.channel.notna()]
        .set_index("channel")[["n"]],
        "Tickets by queue": t[(t.month == current) & t["queue"].notna()]
        .set_index("queue")[["n"]],
        "First-reply SLA by channel": t[(t.month == current) & t.channel.notna()]
        .assign(rate=lambda f: f.sla_met / f.sla_n).set_index("channel")[["sla_n", "rate"]],
        "Appeal overturn rate by policy area": d[(d.month == current) & d.policy_area.notna()]
        .assign(rate=lambda f: f.overturned / f.appealed).set_index("policy_area")[
            ["appealed", "rate"]],
        "Calibration deviation by auditor": found["calibration"][
            found["calibration"].month == current].assign(
                mean=lambda f: f.dev_sum / f.n).set_index("rater_id")[["n", "mean"]],
    }
    weekly = found["responses_weekly"].assign(rate=lambda f: f.good / f.n)
    return {"series": series, "tables": tables, "weekly": weekly,
            "rating_mix": r.pivot_table(index="month", columns="rating", values="n",
                                        aggfunc="sum").reindex(months)}


def _rate(frame: Any, by: str, hit: Any) -> Any:
    n = frame.groupby(by).n.sum()
    return n.to_frame("n").assign(rate=frame[hit].groupby(by).n.sum() / n)


def _mean(reviews: Any, month: str, by: str) -> Any:
    g = reviews[reviews.month == month].groupby(by)[["reviews", "score_sum", "score_sq"]].sum()
    return g.assign(mean=g.score_sum / g.reviews,
                    sd=((g.score_sq - g.score_sum ** 2 / g.reviews) / (g.reviews - 1)) ** 0.5
                    )[["reviews", "mean", "sd"]]


def _defects(cats: Any, month: str, by: list[str]) -> Any:
    g = cats[cats.month == month].groupby(by)[["rated", "defects"]].sum()
    return g.assign(rate=g.defects / g.rated)[["rated", "rate"]]



def draw_charts(months: list[str], shown: dict[str, Any]) -> list[tuple[str, str]]:
    """The report's 12 charts, as SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series, tables = shown["series"], shown["tables"]
    charts: list[tuple[str, Callable[[Any], None]]] = [
        ("CSAT, last 13 months", lambda ax: ax.plot(months, series["CSAT"], marker="o")),
        ("CSAT by queue", lambda ax: ax.barh(tables["CSAT by queue"].index,
                                             tables["CSAT by queue"].rate)),
        ("Weekly CSAT, control chart", lambda ax: _control(ax, shown["weekly"])),
        ("Rating distribution by month", lambda ax: shown["rating_mix"].div(
            shown["rating_mix"].sum(axis=1), axis=0).plot.bar(stacked=True, ax=ax)),
        ("QA score, last 13 months", lambda ax: ax.plot(months, series["QA score"], marker="o")),
        ("Where defects come from", lambda ax: _pareto(ax, tables["Defect rate by category"])),
        ("Defect rate by queue and category", lambda ax: _heatmap(
            ax, tables["Defect rate by queue and category"].rate.unstack())),
        ("QA score by agent", lambda ax: ax.boxplot(tables["QA score by agent"]["mean"]
                                                    .dropna())),
        ("Auditor bias against the calibrator", lambda ax: ax.errorbar(
            range(len(tables["Calibration deviation by auditor"])),
            tables["Calibration deviation by auditor"]["mean"], fmt="o")),
        ("First response time (median), minutes", lambda ax: ax.plot(
            months, series["First response time (median)"], marker="o")),
        ("Tickets created per month", lambda ax: ax.plot(months, series["Tickets created"],
                                                         marker="o")),
        ("Appeal overturn rate by policy area", lambda ax: ax.barh(
            tables["Appeal overturn rate by policy area"].index,
            tables["Appeal overturn rate by policy area"].rate)),
    ]
    out = []
    for title, draw in charts:
        fig, ax = plt.subplots(figsize=(7.5, 3.2), layout="constrained")
        draw(ax)
        ax.set_title(title)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
        plt.close(fig)
        out.append((title, buffer.getvalue()))
    return out


def _control(ax: Any, weekly: Any) -> None:
    p = weekly.good.sum() / weekly.n.sum()
    sigma = (p * (1 - p) / weekly.n) ** 0.5
    ax.plot(weekly.week, weekly.rate, marker=".")
    ax.plot(weekly.week, p + 3 * sigma, ls="--")
    ax.plot(weekly.week, p - 3 * sigma, ls="--")
    ax.set_xticks(weekly.week[::6])


def _pareto(ax: Any, table: Any) -> None:
    defects = (table.rated * table.rate).sort_values(ascending=False)
    ax.bar(defects.index, defects)
    ax.twinx().plot(defects.index, defects.cumsum() / defects.sum(), color="black")


def _heatmap(ax: Any, grid: Any) -> None:
    ax.imshow(grid.to_numpy(), aspect="auto", cmap="Reds")
    ax.set_yticks(range(len(grid.index)), grid.index, fontsize=7)
    ax.set_xticks(range(len(grid.columns)), grid.columns)


#: a plain page: KPI tiles, the charts, the breakdown tables, every metric by month
TEMPLATE = HERE / "floor_template.html.j2"


def render_pdf(months: list[str], shown: dict[str, Any], charts: list[tuple[str, str]],
               out: Path, period: str) -> int:
    import jinja2
    import pandas as pd
    import weasyprint

    uris = [(title, "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode())
            for title, svg in charts]
    appendix = pd.DataFrame({k: list(v) for k, v in shown["series"].items()},
                            index=months).T.to_html(float_format="%.3g", border=0)
    html = jinja2.Template(TEMPLATE.read_text(encoding="utf-8")).render(
        title="Monthly Quality Report", period=period, charts=uris,
        series={k: list(v) for k, v in shown["series"].items()},
        tables={k: v.to_html(float_format="%.3g", border=0)
                for k, v in shown["tables"].items()},
        appendix=appendix)
    document = weasyprint.HTML(string=html, base_url=str(HERE)).render()
    document.write_pdf(out)
    return len(document.pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--period", default="2026-09")
    parser.add_argument("--out", type=Path, default=Path("/tmp/floor_duckdb.pdf"))
    parser.add_argument("--tickets-only", action="store_true")
    args = parser.parse_args()
    stages = Stages()
    *months, end = months_ending(args.period)
    start = months[0]
    if args.tickets_only:
        found = stages.run("data: aggregates", lambda: file_aggregates(
            args.data, args.format, start, end, tickets_only=True))
        stages.total("total")
        print(f"  {len(found['tickets'])} result rows")
        return

    def data() -> dict[str, Any]:
        found = file_aggregates(args.data, args.format, start, end)
        found.update(sql_aggregates(args.data, start, end))
        return figures(months, found)

    shown = stages.run("data: aggregates", data)
    charts = stages.run("charts", lambda: draw_charts(months, shown))
    pages = stages.run("render PDF", lambda: render_pdf(months, shown, charts, args.out,
                                                        args.period))
    stages.total("total")
    print(f"  {len(shown['series'])} metrics, {len(shown['tables'])} tables, {len(charts)} "
          f"charts, {pages} pages: {args.out}")
    for name, values in shown["series"].items():
        print(f"  {name:<32} {values.iloc[-1]:.6g}")


if __name__ == "__main__":
    sys.exit(main())
