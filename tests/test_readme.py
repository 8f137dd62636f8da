"""The README's examples are real: its definition validates and its settings file loads."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from reportgen.plan import load_definition
from reportgen.settings import load_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_tour_definition_with_its_schedule_and_delivery_is_valid(tmp_path):
    tour, scheduling = blocks()[0], blocks()[1]
    path = tmp_path / "report.yaml"
    path.write_text(tour + scheduling, encoding="utf-8")
    d = load_definition(path).definition
    assert d.metrics[0].calculator == "csat"
    assert d.schedule is not None and d.schedule.cron == "0 7 2 * *"
    assert d.delivery is not None and d.delivery.email is not None


def test_the_settings_example_loads(tmp_path):
    settings_text = next(b for b in blocks() if "smtp:" in b)
    path = tmp_path / "reportgen.settings.yaml"
    path.write_text(settings_text, encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.smtp is not None and settings.smtp.security == "starttls"
    assert "password" not in yaml.safe_load(settings_text)["smtp"]


def test_the_warehouse_source_example_is_a_valid_source(tmp_path):
    from reportgen.definition.content_specs import SourceSpec

    block = next(b for b in blocks() if "snowflake://" in b)
    (name, spec), = yaml.safe_load(block)["sources"].items()
    source = SourceSpec.model_validate(spec)
    assert source.kind == "sql" and source.table == "analytics.tickets"
    assert "resolution_hours" in source.derive


def test_the_fan_out_section_names_every_option_and_its_worker_settings_load(tmp_path):
    from reportgen.definition.delivery_specs import FanOutSpec, RecipientsFromSpec

    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Fan-out and workers"):]
    section = section[:section.index("\n### ", 1)]
    for term in ("fan_out:", "recipients_from:", "allowed_domains", "--jobs", "--json",
                 "reportgen worker", "executor: celery", "REPORTGEN_BROKER_VISIBILITY_SECONDS",
                 "time limit", "validate", "--settings"):
        assert term in section, term
    fan_block, settings_block = (b for b in blocks() if "fan_out:" in b or "executor:" in b)
    fan = yaml.safe_load(fan_block)
    assert FanOutSpec.model_validate(fan["fan_out"]).by == ["queue"]
    assert RecipientsFromSpec.model_validate(fan["recipients_from"]).file is not None
    path = tmp_path / "reportgen.settings.yaml"
    path.write_text(settings_block, encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.executor == "celery" and settings.allowed_domains == ["example.com"]
