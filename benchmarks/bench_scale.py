"""The Monthly Quality Report at scale: each stage's cost, and the floor it is held against.

    # the report, stage by stage; saves what the floor needs
    python benchmarks/bench_scale.py engine --data DIR [--config monthly_quality_report.yaml]
        [--period 2026-09] [--save-floor FLOOR.pickle] [--csv-cache DIR [--fresh]]
    # the floor: the same aggregate queries run directly with the plain drivers (DuckDB,
    # sqlite3), then the same HTML rendered to PDF by WeasyPrint
    python benchmarks/bench_scale.py floor FLOOR.pickle

DIR is a demo dataset (``reportgen demo`` or ``benchmarks/scale_data.py``): the example
definitions read it as ../out/demo, those in benchmarks/configs as ../data.  ``engine`` prints one line per stage (wall, CPU, peak
RSS so far) and a total; ``floor`` prints its total.  Pair the two as whole processes over
several runs with ``benchmarks/measure.py --pair`` (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import pickle
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 10, 2, 7, tzinfo=UTC)


class Stages:
    """Wall and CPU time per stage, and the process's peak RSS after each."""

    def __init__(self) -> None:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()

    def run(self, label: str, work: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  {label:<34} wall {time.perf_counter() - wall:7.2f} s   "
              f"cpu {time.process_time() - cpu:7.2f} s   peak {peak:7.0f} MiB", flush=True)
        return result

    def total(self, label: str) -> None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  {label:<34} wall {time.perf_counter() - self.wall0:7.2f} s   "
              f"cpu {time.process_time() - self.cpu0:7.2f} s   peak {peak:7.0f} MiB", flush=True)


def layout(data: Path, config: str) -> tuple[Path, Path]:
    """A work folder where ``configs/<config>`` finds the data at ../out/demo."""
    work = Path(tempfile.mkdtemp(prefix="reportgen-scale-"))
    (work / "configs").mkdir()
    (work / "out").mkdir()
    (work / "out" / "demo").symlink_to(data.resolve(), target_is_directory=True)
    (work / "data").symlink_to(data.resolve(), target_is_directory=True)  # benchmarks/configs
    source = Path(config) if Path(config).is_file() else REPO / "configs" / config
    shutil.copy(source, work / "configs" / source.name)
    return work, work / "configs" / source.name


def engine(args: argparse.Namespace) -> None:
    if args.csv_cache:
        # CSV sources read through their Parquet copies there, as a run with settings does
        # (``--fresh`` empties it first: the run that makes the copies)
        if args.fresh:
            shutil.rmtree(args.csv_cache, ignore_errors=True)
        from reportgen.data import csv_cache

        csv_cache.configure(args.csv_cache)
    stages = Stages()
    from reportgen.render.pdf import render_pdf
    from reportgen.render.pdf_templates import render_html, template_search_path
    from reportgen.run.build import build_insights, read_actions
    from reportgen.run.compute import compute_metrics, history_of, open_store
    from reportgen.run.figures import build_charts

    work, config = layout(args.data, args.config)
    try:
        from reportgen import __version__, text
        from reportgen.data.gates import check_gates
        from reportgen.data.rows import StoreRows
        from reportgen.period import Period
        from reportgen.plan import load_definition, resolve
        from reportgen.report.assemble import assemble_model

        plan = stages.run("load and resolve the definition",
                          lambda: resolve(load_definition(config)))
        d = plan.definition
        period = Period.parse(args.period, d.period.grain, d.period.timezone)
        print(f"--- {d.id} {period.label}: {len(d.metrics)} metrics, {len(d.sources)} sources, "
              f"{len(history_of(plan, period))} periods", flush=True)
        with text.locale_scope(d.locale), open_store(plan, period) as store:
            metrics = stages.run("data: aggregates and rows", lambda: compute_metrics(
                plan, store, period))
            gates = stages.run("gates", lambda: tuple(check_gates(plan, store, metrics, period)))
            findings = stages.run("insights", lambda: build_insights(
                plan, metrics, StoreRows(store), period))
            rows = {name: store.count(name, period) for name in d.sources}
            hashes = {name: store.fingerprint(name) for name in d.sources}
            replays = store.replays()
            real = str(args.data.resolve())
            for replay in replays:  # the work folder goes away: point at the data itself
                if replay["database"]:
                    replay["database"] = str(Path(replay["database"]).resolve())
                replay["setup"] = [_relinked(sql, work, real) for sql in replay["setup"]]
                if replay["read"]:  # a SQLite source read once: its database too
                    database, *rest = replay["read"]
                    replay["read"] = (str(Path(database).resolve()), *rest)
            figures = stages.run("charts", lambda: build_charts(plan, metrics, period))
            model = stages.run("assemble the model", lambda: assemble_model(
                plan, period, now=NOW, metrics=metrics, figures=figures,
                findings=findings, gates=gates, input_hashes=hashes, row_counts=rows,
                code_version=__version__, actions=read_actions(plan)))
        out = work / "report.pdf"
        stages.run("render PDF", lambda: render_pdf(model, out))
        stages.total("total")
        print(f"  rows in {period.label}: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
        if args.csv_cache:
            from reportgen.data import csv_cache

            print(f"  CSV Parquet copies: {dict(csv_cache.events)}")
        if args.save_floor:
            search_path = template_search_path(None)
            floor = {"replays": replays, "html": render_html(model, search_path, []),
                     "base_url": search_path[0].as_uri() + "/"}
            args.save_floor.write_bytes(pickle.dumps(floor))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _relinked(sql: str, work: Path, data: str) -> str:
    for link in ("configs/../data", "configs/../out/demo"):
        sql = sql.replace(f"{work}/{link}", data)
    return sql


def floor(args: argparse.Namespace) -> None:
    """The least work the same report can cost: its queries and its HTML, nothing else."""
    stages = Stages()
    saved = pickle.loads(args.floor.read_bytes())

    def queries() -> int:
        import duckdb

        from reportgen.data.read_once import USE_LANDED
        from reportgen.data.sql_source import sqlite_aggregates

        count = 0
        for replay in saved["replays"]:
            if replay["dialect"] == "duckdb":
                conn: Any = duckdb.connect()
                for sql in replay["setup"]:
                    conn.execute(sql)
                    if replay["read"] and sql == USE_LANDED:  # a SQLite source read once:
                        read_into(conn, *replay["read"])  # the same read, before the fence
            elif replay["dialect"] == "sqlite":
                import sqlite3

                conn = sqlite3.connect(replay["database"])
                sqlite_aggregates(conn, None)  # the same var_samp the engine registers
            else:
                raise SystemExit(f"the floor replays DuckDB and SQLite sources, not "
                                 f"{replay['dialect']}")
            for sql, params in replay["queries"]:
                cursor = conn.execute(sql, params)
                # streamed, as the engine reads DuckDB rows: a whole result at once does
                # not fit the memory limit the engine sets
                while batch := cursor.fetchmany(100_000):
                    count += len(batch)
            conn.close()
        return count

    def read_into(conn: Any, database: str, sql: str, params: list[Any], create: str) -> None:
        import sqlite3

        import pyarrow as pa

        from reportgen.data.sql_source import sqlite_aggregates

        source = sqlite3.connect(database)
        sqlite_aggregates(source, None)  # the number test the reading statement uses
        conn.execute(create)
        cursor = source.execute(sql, params)
        while batch := cursor.fetchmany(50_000):
            arrays = []
            for values in zip(*batch, strict=True):
                try:
                    arrays.append(pa.array(values))
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    arrays.append(pa.array([None if v is None else str(v) for v in values]))
            table = pa.table(arrays, names=[f"c{i}" for i in range(len(arrays))])
            conn.register("batch", table)
            conn.execute("INSERT INTO canon SELECT * FROM batch")
            conn.unregister("batch")
        source.close()

    def render() -> None:
        import weasyprint

        from reportgen.render.pdf import PDF_VARIANT

        with tempfile.TemporaryDirectory() as tmp:
            weasyprint.HTML(string=saved["html"], base_url=saved["base_url"]).write_pdf(
                Path(tmp) / "floor.pdf", pdf_variant=PDF_VARIANT)

    rows = stages.run("the same queries, plain drivers", queries)
    stages.run("the same HTML, WeasyPrint", render)
    stages.total("total")
    print(f"  {sum(len(r['queries']) for r in saved['replays'])} statements, {rows:,} result rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("engine")
    run.add_argument("--data", type=Path, required=True)
    run.add_argument("--config", default="monthly_quality_report.yaml")
    run.add_argument("--period", default="2026-09")
    run.add_argument("--save-floor", type=Path)
    run.add_argument("--csv-cache", type=Path, help="folder of the CSV sources' Parquet copies")
    run.add_argument("--fresh", action="store_true", help="empty --csv-cache first")
    base = sub.add_parser("floor")
    base.add_argument("floor", type=Path)
    args = parser.parse_args()
    {"engine": engine, "floor": floor}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
