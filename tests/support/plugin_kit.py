"""A third-party plugin package in miniature: one renderer (``txt``), one delivery channel
(``webhook``) and one source kind (``sqlite_table``), each with its own options schema.

``install_plugins`` makes them findable the way an installed distribution is: a
``*.dist-info/entry_points.txt`` on ``sys.path``, read by ``importlib.metadata``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reportgen.definition import LoadedDefinition
from reportgen.definition.content_specs import SourceSpec
from reportgen.delivery.channels import DeliveryContext, PostChannel, SendError
from reportgen.delivery.content import MailContent
from reportgen.render.files import write_atomically
from reportgen.report.model.report_model import Artifact, ReportModel

ENTRY_POINTS = """\
[reportgen.renderers]
txt = support.plugin_kit:TxtRenderer

[reportgen.channels]
webhook = support.plugin_kit:WebhookChannel

[reportgen.sources]
sqlite_table = support.plugin_kit:SqliteTableSource
"""


def install_plugins(site: Path) -> Path:
    """Write the distribution's metadata into ``site`` (a folder to put on sys.path)."""
    info = site / "reportgen_test_plugins-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: reportgen-test-plugins\n"
                                   "Version: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    return site


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TxtOptions(Options):
    heading: str = Field("Report", min_length=1, description="First line of the file.")


class TxtRenderer:
    """The headline KPIs as a plain-text file."""

    Options = TxtOptions

    def __call__(self, model: ReportModel, path: Path, options: TxtOptions,
                 loaded: LoadedDefinition) -> Artifact:
        lines = [options.heading, model.title, model.period.label]
        lines += [f"{k.metric.label}: {k.value_text}" for k in model.summary_kpis]
        text = "\n".join(lines) + "\n"
        return write_atomically(path, "txt", lambda tmp: tmp.write_text(text, encoding="utf-8"))


class WebhookOptions(Options):
    url_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$",
                         description="Environment variable holding the URL to post to.")


class WebhookChannel(PostChannel):
    """A JSON post of the headline to a URL."""

    name = "webhook"
    Options = WebhookOptions
    backoff_seconds = 0.0

    def recipients(self, options: WebhookOptions) -> list[str]:
        return [f"webhook:{options.url_env}"]

    def post(self, recipient: str, content: MailContent, artifacts: Sequence[Artifact],
             options: WebhookOptions, context: DeliveryContext) -> str | None:
        url = (context.environ or {})[options.url_env]
        body = json.dumps({"title": content.title, "period": content.period_label,
                           "files": [Path(a.path).name for a in artifacts]}).encode()
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            raise SendError(f"HTTP {exc.code}", permanent=exc.code < 500) from None
        return None


class SqliteTableOptions(Options):
    file: str = Field(min_length=1, description="SQLite file, relative to the definition.")
    table: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class SqliteTableSource:
    """A table of a SQLite file, named by options rather than a URL."""

    Options = SqliteTableOptions

    def open(self, name: str, spec: SourceSpec, base_dir: Path, bounds: tuple[Any, Any]) -> Any:
        from reportgen.data.connectors import SOURCES

        options = SqliteTableOptions.model_validate(spec.options)
        as_sql = spec.model_copy(update={
            "kind": "sql", "url": f"sqlite:///{base_dir / options.file}",
            "table": options.table, "options": {}})
        return SOURCES.instance("sql").open(name, as_sql, base_dir, bounds)
