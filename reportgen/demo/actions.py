"""The demo's action register: what the team is doing about the planted stories.

Written beside the data by ``reportgen demo`` as ``actions.yaml``; the example MQR and QBR
definitions name it (``actions: {file: ../out/demo/actions.yaml}``).  Dates follow the
demo's last month, so the register reads the same for any ``--end-month``: the Billing fix
and AU07's recalibration are overdue at the month's end, the knowledge-base refresh is on
time, and the Onboarding coaching is done.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from reportgen.demo import writer
from reportgen.period import Period

ACTIONS_NAME = "actions.yaml"


def demo_actions(end_month: date) -> list[dict[str, Any]]:
    """The register's rows for a demo whose last month starts on ``end_month``."""
    last = Period(end_month, "month")
    after = last.end  # first day after the demo's last month

    def day(offset: int, base: date = end_month) -> str:
        return (base + timedelta(days=offset)).isoformat()

    return [
        {"id": "ACT-1", "finding": "Billing CSAT fell after the refund-policy change",
         "metric": "csat", "scope": "queue = Billing",
         "action": "Rewrite the refund macros for the new policy and brief every Billing agent",
         "owner": "Billing team lead", "started": day(9), "due": day(24), "status": "open",
         "kpi": "csat", "target": 0.85},
        {"id": "ACT-2", "finding": "'Correct information' defects in Shipping and Technical Support",
         "metric": "defect_rate",
         "action": "Refresh the Shipping and Technical Support knowledge-base articles "
                   "and add a fact check to the QA scorecard",
         "owner": "Knowledge manager", "started": day(14), "due": day(30, after), "status": "open",
         "kpi": "defect_rate", "target": 0.07},
        {"id": "ACT-3", "finding": "Auditor AU07 scores more generously than the calibrator",
         "metric": "calibration", "scope": "auditor = AU07",
         "action": "Double-score AU07's reviews with the calibrator for four weeks",
         "owner": "QA lead", "started": day(7), "due": day(27), "status": "open",
         "kpi": "calibration", "target": 5},
        {"id": "ACT-4", "finding": "Onboarding QA scores below target",
         "metric": "qa_score", "scope": "queue = Onboarding",
         "action": "Weekly coaching on the new onboarding checklist",
         "owner": "Onboarding team lead", "started": last.shift(-3).start.isoformat(),
         "due": (last.shift(-1).start - timedelta(days=1)).isoformat(), "status": "done",
         "kpi": "qa_score", "target": 82},
        {"id": "ACT-5", "finding": "Harassment appeals are overturned twice as often",
         "metric": "overturn_rate",
         "action": "Clarify the harassment policy guidance and review overturned cases weekly",
         "owner": "Trust & Safety policy lead", "started": day(20), "due": day(45, after),
         "status": "open", "kpi": "overturn_rate", "target": 0.2},
    ]


def write_actions(out_dir: Path, end_month: date) -> Path:
    path = out_dir / ACTIONS_NAME
    body = ("# What the team is doing about this month's findings (demo data).\n"
            + yaml.safe_dump({"actions": demo_actions(end_month)}, sort_keys=False,
                             allow_unicode=True, width=100))
    with writer.atomic_path(path) as tmp:
        tmp.write_text(body, encoding="utf-8")
    return path
