"""Personal data by construction: a PII declaration binds to the data column whatever it is
called, no rename, derived column, filter or fan-out reads it without privacy.allow_pii,
small segments over it are counted not named, and errors never quote its values."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from reportgen.cli import main
from reportgen.errors import DefinitionError
from reportgen.plan import load_definition

HEAD = """\
id: mqr
title: Monthly Quality Report
sources:
  csat:
    kind: csv
    path: csat.csv
    time_column: responded_at
    columns: {{rating: int, queue: str, {contract}}}
    rename: {{{rename}}}
    pii: [{pii}]
{extra_source}metrics:
  - id: csat
    calculator: csat
    source: csat
    params: {{column: rating}}
    by: [{by}]
{extra_metric}sections:
  - id: voc
    title: Voice of the customer
    kpis: [csat]
    tables:
      - {{metric: csat, by: {table}}}
outputs:
  - {{format: html}}
{tail}"""


def definition(*, contract: str = "contact: str", rename: str = 'contact: "Customer Email"',
               pii: str = '"Customer Email"', by: str = "queue", table: str = "queue",
               extra_source: str = "", extra_metric: str = "", tail: str = "") -> str:
    return HEAD.format(contract=contract, rename=rename, pii=pii, by=by, table=table,
                       extra_source=extra_source, extra_metric=extra_metric, tail=tail)


def write_data(folder: Path, *, rows_per_queue: dict[str, int] | None = None,
               agents: int = 3, bad_id_at: int | None = None) -> list[str]:
    """A CSAT export with an e-mail column named as exported; returns the addresses."""
    rows_per_queue = rows_per_queue or {"Billing": 40, "Tech": 40}
    emails: list[str] = []
    with (folder / "csat.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["responded_at", "rating", "queue", "Customer Email", "agent", "customer_id"])
        i = 0
        for queue, count in rows_per_queue.items():
            for _ in range(count):
                email = f"person{i}@example.com"
                emails.append(email)
                # an address pasted into the customer number's column
                customer = email if bad_id_at == i else str(1000 + i)
                out.writerow([f"2026-09-{1 + i % 28:02d} 10:00:00", 1 + i % 5, queue, email,
                              f"Agent {i % agents}", customer])
                i += 1
    return emails


def problems(path: Path) -> str:
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    return "\n".join(str(p) for p in info.value.problems)


# --- every route to the column is refused (each passed validation before) -----------------

def test_pii_named_by_the_exports_header_covers_the_renamed_column(write_definition) -> None:
    path = write_definition(definition(by="[queue, contact]", table="[queue, contact]"))
    found = problems(path)
    assert "reads column 'contact'" in found and "personal data" in found
    assert "'Customer Email'" in found and "allow_pii" in found


def test_pii_named_by_our_name_covers_a_second_name_for_the_same_data_column(
        write_definition) -> None:
    path = write_definition(definition(contract="contact: str, who: str",
                                       rename='contact: "Customer Email", who: "Customer Email"',
                                       pii="contact", by="who", table="who"))
    found = problems(path)
    assert "reads column 'who'" in found and "personal data" in found


def test_a_derived_column_of_personal_data_is_personal(write_definition) -> None:
    path = write_definition(definition(contract="contact: str, domain: str",
                                       extra_source='    derive: {domain: "lower(contact)"}\n',
                                       by="domain", table="domain"))
    found = problems(path)
    assert "reads column 'domain'" in found and "personal data" in found


def test_a_filter_on_a_renamed_personal_column_is_refused(write_definition) -> None:
    path = write_definition(definition(extra_metric="    filter: {contact: a@example.com}\n"))
    assert "reads column 'contact'" in problems(path)


def test_a_values_mapping_does_not_launder_a_personal_column(write_definition) -> None:
    path = write_definition(definition(
        extra_source="    values: {contact: {a@example.com: VIP}}\n",
        by="contact", table="contact"))
    assert "reads column 'contact'" in problems(path)


def test_a_calculator_reading_a_renamed_personal_column_is_refused(write_definition) -> None:
    text = definition().replace("params: {column: rating}", "params: {column: contact}")
    path = write_definition(text)
    assert "reads column 'contact'" in problems(path)


def test_a_fan_out_over_personal_data_is_refused(write_definition) -> None:
    path = write_definition(definition(tail="fan_out: {by: [contact]}\n"))
    found = problems(path)
    assert "fan_out splits by column 'contact'" in found


def test_allow_pii_by_either_name_lets_the_column_through(write_definition) -> None:
    for allowed in ("contact", '"Customer Email"'):
        path = write_definition(definition(by="[queue, contact]", table="[queue, contact]",
                                           tail=f"privacy: {{allow_pii: [{allowed}]}}\n"))
        assert load_definition(path).definition.privacy.allow_pii


# --- a declaration must name a column -------------------------------------------------------

@pytest.mark.parametrize("contract", [True, False])
def test_a_pii_entry_naming_no_column_of_the_data_stops_the_run(
        tmp_path: Path, write_definition, capsys, contract: bool) -> None:
    write_data(tmp_path)
    text = definition()
    if not contract:  # a contract need not type every column, so the data's header decides
        text = text.replace("    columns: {rating: int, queue: str, contact: str}\n", "")
    path = write_definition(text.replace('pii: ["Customer Email"]', 'pii: ["E-mail"]'))
    assert main(["run", str(path), "--period", "2026-09", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "csat.csv" in err and "'E-mail' matches no column" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.html"))


# --- what reaches the outputs ---------------------------------------------------------------

def test_small_segments_of_an_allowed_personal_breakdown_are_counted_not_named(
        tmp_path: Path, write_definition) -> None:
    emails = write_data(tmp_path, rows_per_queue={"Billing": 60, "Tech": 3}, agents=1)
    # every address is its own segment of n = 1: each is too small to show and none is named
    path = write_definition(definition(by="[queue, contact]", table="[queue, contact]",
                                       tail="privacy: {allow_pii: [contact]}\n"))
    out = tmp_path / "out"
    assert main(["run", str(path), "--period", "2026-09", "--out", str(out)]) == 0
    (page,) = out.rglob("*.html")
    html = page.read_text(encoding="utf-8")
    assert sum(email in html for email in emails) == 0
    assert "segment(s) not named" in html


def test_a_type_error_in_a_personal_column_names_row_and_column_not_the_value(
        tmp_path: Path, write_definition, capsys) -> None:
    emails = write_data(tmp_path, bad_id_at=5)
    path = write_definition(definition(contract="contact: str, customer_id: int",
                                       pii='"Customer Email", customer_id'))
    out = tmp_path / "out"
    code = main(["run", str(path), "--period", "2026-09", "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert "csat.csv" in captured.err and "data row 6" in captured.err
    assert "'customer_id'" in captured.err and "Traceback" not in captured.err
    assert emails[5] not in captured.err + captured.out
    (ledger,) = out.rglob("*.sqlite")
    with sqlite3.connect(ledger) as db:
        dumped = "\n".join(str(row) for row in db.execute("SELECT * FROM runs"))
    assert "data row 6" in dumped and emails[5] not in dumped
