"""A fan-out's recipients are always staff: a personal column is never a recipient source,
addresses from data need an allow-list, and a bad or missing recipient stops only its own
segment (the run is partial, the owner told) without any message quoting an address."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml
from support.fanout_defs import QUEUES, lead, write_fanout
from support.smtp_server import smtp_settings

from reportgen.cli import main
from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.run.runner import run_fanout

SEPTEMBER = Period.parse("2026-09", "month", "Europe/Berlin")
CUSTOMERS = "{source: tickets, email: customer_email}"


def _now() -> datetime:
    return datetime(2026, 10, 2, 7, 0, tzinfo=UTC)


def _run(path: Path, ledger, server, out: Path, domains=("example.com",)):
    return run_fanout(load_definition(path), SEPTEMBER, trigger="manual", ledger=ledger,
                      out_dir=out, send=True, smtp=smtp_settings(server),
                      domains=list(domains), jobs=1, now=_now, sleep=lambda s: None)


def _settings(folder: Path, server=None, domains=("example.com",)) -> Path:
    path = folder / "settings.yaml"
    data: dict = {"ledger_url": "sqlite:///runs.sqlite", "allowed_domains": list(domains)}
    if server is not None:
        data["smtp"] = {"host": server.host, "port": server.port, "security": "none",
                        "from_address": "reports@example.com", "timeout": 5, "attempts": 1,
                        "local_hostname": "reportgen.test"}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _alerts(server, report: str) -> list[str]:
    return [m.message.get_body(("plain",)).get_content()
            for m in server.by_recipient().get(f"owner-{report}@example.com", [])]


def _customer_addresses(demo_dir: Path) -> set[str]:
    """Every customer address in the tickets of the listed queues (the whole file: the
    fan-out reads September's, and none of any month may leak)."""
    tickets = pd.read_csv(demo_dir / "tickets.csv", usecols=["queue", "customer_email"])
    return set(tickets.loc[tickets["queue"].isin(QUEUES), "customer_email"].dropna())


def _ledger_text(path: Path) -> str:
    """Every value of every table of a SQLite ledger, as one text."""
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert "runs" in tables and "deliveries" in tables
        return "\n".join(" ".join(map(str, row)) for t in tables
                         for row in conn.execute(f'SELECT * FROM "{t}"'))


# --- validate ---------------------------------------------------------------------------
@pytest.mark.parametrize("rename", [False, True])
def test_a_personal_column_as_recipient_source_is_refused_at_validate(
        tmp_path, demo_dir, capsys, rename):
    path = write_fanout(tmp_path, demo_dir, "pii", recipients_from=CUSTOMERS,
                        pii=("customer_email",))
    if rename:  # the same data column under a derived name
        text = path.read_text().replace(
            "    pii: [customer_email]\n",
            "    pii: [customer_email]\n    derive: {contact: \"lower(customer_email)\"}\n")
        path.write_text(text.replace("email: customer_email}", "email: contact}"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "recipients_from.email" in err and "personal data" in err
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1)
                if text.startswith("recipients_from"))
    assert f"{path}:{line}:" in err
    assert "Traceback" not in err


def test_validate_with_settings_checks_the_mapping_file_against_the_allow_list(
        tmp_path, demo_dir, capsys):
    path = write_fanout(tmp_path / "defs", demo_dir, "vet",
                        extra_rows="Returns,someone@gmail.com\nPayments,\n")
    owners = path.parent / "vet-owners.csv"
    assert main(["validate", str(path), "--settings", str(_settings(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert f"{owners}:5:2" in err and "gmail.com" in err and "example.com" in err
    assert f"{owners}:6:2" in err and "empty" in err
    assert "someone@gmail.com" not in err and "Traceback" not in err
    # without the settings the domain is not known, but the empty address still is wrong
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{owners}:6:2" in err and f"{owners}:5:2" not in err


def test_validate_names_a_listed_segment_without_a_mapping_row(tmp_path, demo_dir, capsys):
    rows = "".join(f"{q},{lead('typo', q)}\n" for q in ("Biling", "Payments", "Returns"))
    path = write_fanout(tmp_path, demo_dir, "typo", owners_rows=rows)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "segment 'Billing'" in err and "'Biling'" in err and "Traceback" not in err


def test_validate_with_settings_refuses_addresses_from_data_without_an_allow_list(
        tmp_path, demo_dir, capsys):
    path = write_fanout(tmp_path, demo_dir, "open", recipients_from=CUSTOMERS)
    assert main(["validate", str(path), "--settings", str(_settings(tmp_path, domains=()))]) == 2
    err = capsys.readouterr().err
    assert "recipients_from.source" in err and "allowed_domains" in err
    assert main(["validate", str(path), "--settings", str(_settings(tmp_path))]) == 0


# --- run --------------------------------------------------------------------------------
@pytest.mark.parametrize("bad_row", ["Returns,someone@gmail.com", "Returns,", "Returns,x@@y"])
def test_a_bad_mapping_row_skips_only_its_segment_and_the_owner_is_told(
        tmp_path, demo_dir, ledger, smtp_server, bad_row):
    path = write_fanout(tmp_path / "defs", demo_dir, "rows", extra_rows=bad_row + "\n")
    record = _run(path, ledger, smtp_server, tmp_path / "out")

    assert record.status == "partial"
    statuses = {c.segment: c.status for c in ledger.children_of(record.id)}
    assert statuses == {"Billing": "succeeded", "Payments": "succeeded", "Returns": "skipped"}
    got = smtp_server.by_recipient()
    assert {lead("rows", "Billing"), lead("rows", "Payments"), "director-rows@example.com"} \
        <= set(got)
    assert lead("rows", "Returns") not in got  # its one good row does not outvote the bad
    (alert,) = _alerts(smtp_server, "rows")
    assert "Returns" in alert and "rows-owners.csv:5:2" in alert
    address = bad_row.split(",", 1)[1]
    if address:
        assert address not in alert and address not in record.error


def test_a_queue_missing_from_the_owners_file_makes_the_run_partial_with_an_alert(
        tmp_path, demo_dir, ledger, smtp_server):
    rows = "".join(f"{q},{lead('gap', q)}\n" for q in ("Biling", "Payments", "Returns"))
    path = write_fanout(tmp_path / "defs", demo_dir, "gap", owners_rows=rows)
    record = _run(path, ledger, smtp_server, tmp_path / "out")

    assert record.status == "partial" and "Billing" in record.error
    statuses = {c.segment: c.status for c in ledger.children_of(record.id)}
    assert statuses == {"Billing": "skipped", "Payments": "succeeded", "Returns": "succeeded"}
    (alert,) = _alerts(smtp_server, "gap")
    assert "Billing" in alert and "'Biling'" in alert
    assert lead("gap", "Payments") in smtp_server.by_recipient()


def test_an_empty_allow_list_denies_addresses_from_data(tmp_path, demo_dir, ledger,
                                                        smtp_server):
    path = write_fanout(tmp_path / "defs", demo_dir, "deny", recipients_from=CUSTOMERS)
    record = _run(path, ledger, smtp_server, tmp_path / "out", domains=())

    assert record.status == "partial"
    assert set(smtp_server.by_recipient()) == {"director-deny@example.com",
                                               "owner-deny@example.com"}
    assert all(c.status == "skipped" and "allowed_domains" in c.error
               for c in ledger.children_of(record.id))


def test_no_error_log_or_ledger_row_quotes_a_customer_address(tmp_path, demo_dir, capsys,
                                                             smtp_server):
    customers = _customer_addresses(demo_dir)
    assert len(customers) > 100 and all("@" in a for a in customers)
    path = write_fanout(tmp_path / "defs", demo_dir, "leak", recipients_from=CUSTOMERS)
    settings = _settings(tmp_path, smtp_server)
    logging.getLogger().handlers[:] = []
    code = main(["-v", "run", str(path), "--period", "2026-09", "--out", str(tmp_path / "out"),
                 "--settings", str(settings), "--send", "--jobs", "1"])
    out, err = capsys.readouterr()
    assert code == 1 and "partial" in err  # the director's report went; no segment did
    assert "refused" in err or "not at example.com" in err
    recorded = _ledger_text(tmp_path / "runs.sqlite")
    alerts = "\n".join(_alerts(smtp_server, "leak"))
    assert alerts and "Billing" in alerts
    for where, text in (("stdout", out), ("stderr and log", err), ("ledger", recorded),
                        ("owner alert", alerts)):
        quoted = sorted(a for a in customers if a in text)
        assert quoted == [], f"{len(quoted)} customer address(es) in the {where}"
    assert set(smtp_server.by_recipient()) == {"director-leak@example.com",
                                               "owner-leak@example.com"}
