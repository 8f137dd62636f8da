"""E-mail delivery against a real SMTP server on loopback, recorded in a real ledger file."""

from __future__ import annotations

import hashlib
import logging
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from support import standin_pipeline as standin
from support.smtp_server import SmtpServer, smtp_settings
from support.standin_pipeline import RECIPIENTS

from reportgen.definition import LoadedDefinition
from reportgen.delivery.content import MailContent
from reportgen.delivery.email import (
    AttachmentTooLarge,
    HeaderInjectionError,
    deliver_email,
)
from reportgen.ledger.store import Ledger
from reportgen.period import Period
from reportgen.report.model.report_model import Artifact
from reportgen.settings import SettingsError, SmtpSettings, load_settings

PERIOD = Period.parse("2026-10", "month", "Europe/Berlin")
ALL = RECIPIENTS["to"] + RECIPIENTS["cc"] + RECIPIENTS["bcc"]


def rendered_run(report_dir: Path, ledger: Ledger, outputs: list[str] | None = None
                 ) -> tuple[LoadedDefinition, MailContent, list[Artifact], int]:
    loaded = standin.load_definition(report_dir / "mqr.yaml")
    if outputs:
        definition = loaded.definition.model_copy(update={
            "outputs": [loaded.definition.outputs[0].model_copy(update={"format": f})
                        for f in outputs]})
        loaded = replace(loaded, definition=definition)
    result = standin.build_report(loaded, PERIOD, now=PERIOD.end_at)
    artifacts = standin.render_outputs(loaded, result, report_dir / "out")
    run_id = ledger.start_run("mqr", PERIOD.key, trigger="manual", definition_hash=loaded.hash,
                              code_version="test")
    ledger.record_artifacts(run_id, artifacts)
    return loaded, MailContent.from_model(result.model), artifacts, run_id


def test_each_recipient_gets_one_message_with_the_report(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer) -> None:
    loaded, content, artifacts, run_id = rendered_run(report_dir, ledger)
    spec = loaded.definition.delivery.email
    report = deliver_email(content, artifacts, spec, smtp_settings(smtp_server), ledger=ledger,
                           run_id=run_id, sleep=lambda s: None)

    assert [o.status for o in report.outcomes] == ["sent"] * 3
    by_rcpt = smtp_server.by_recipient()
    assert sorted(by_rcpt) == sorted(ALL)
    assert all(len(items) == 1 for items in by_rcpt.values())
    stored = ledger.get_run(run_id)
    for recipient, (received,) in by_rcpt.items():
        msg = received.message
        assert received.rcpt_tos == (recipient,)
        assert msg["Subject"] == "Monthly Quality Report — October 2026 (Acme Support)"
        assert msg["To"] == "director@example.com"
        assert msg["Cc"] == "manager@example.com"
        # bcc: delivered by envelope only, never named in the message itself.
        assert b"auditor" not in received.raw
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert "Tickets: 12 (+3 vs last month) - On target" in text
        assert "<strong>12</strong>" in html
        # Autoescape: a finding's '<reviewed> &' arrives as text, not markup.
        assert "&lt;reviewed&gt; &amp;" in html and "<reviewed>" not in html
        (attachment,) = list(msg.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == "mqr-2026-10.pdf"
        data = attachment.get_content()
        assert hashlib.sha256(data).hexdigest() == stored.artifacts[0].sha256
        row = next(d for d in stored.deliveries if d.recipient == recipient)
        assert row.status == "sent" and row.attempts == 1
        assert row.smtp_message_id == msg["Message-ID"]


def test_a_second_delivery_sends_nothing_already_sent(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer) -> None:
    loaded, content, artifacts, run_id = rendered_run(report_dir, ledger)
    spec = loaded.definition.delivery.email
    settings = smtp_settings(smtp_server)
    deliver_email(content, artifacts, spec, settings, ledger=ledger, run_id=run_id)
    again = deliver_email(content, artifacts, spec, settings, ledger=ledger, run_id=run_id)

    assert [o.status for o in again.outcomes] == ["skipped"] * 3
    assert len(smtp_server.received) == 3


def test_resend_bypasses_the_check_and_records_a_new_row(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer) -> None:
    loaded, content, artifacts, run_id = rendered_run(report_dir, ledger)
    spec = loaded.definition.delivery.email
    settings = smtp_settings(smtp_server)
    deliver_email(content, artifacts, spec, settings, ledger=ledger, run_id=run_id)
    deliver_email(content, artifacts, spec, settings, ledger=ledger, run_id=run_id,
                  resend_to=["director@example.com"])

    assert len(smtp_server.by_recipient()["director@example.com"]) == 2
    rows = [d for d in ledger.get_run(run_id).deliveries if d.recipient == "director@example.com"]
    assert sorted((d.purpose, d.status) for d in rows) == [("delivery", "sent"),
                                                           ("resend", "sent")]


def test_server_down_then_up_delivers_once_per_recipient_after_retrying(
        report_dir: Path, ledger: Ledger) -> None:
    loaded, content, artifacts, run_id = rendered_run(report_dir, ledger)
    server = SmtpServer()  # not started: connections are refused
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            server.start()

    try:
        report = deliver_email(content, artifacts, loaded.definition.delivery.email,
                               smtp_settings(server, attempts=4), ledger=ledger,
                               run_id=run_id, sleep=sleep)
        received = server.by_recipient()
    finally:
        server.stop()

    assert [o.status for o in report.outcomes] == ["sent"] * 3
    assert waits == [0.01, 0.02]  # exponential back-off between the three tries
    assert {r: len(items) for r, items in received.items()} == {r: 1 for r in ALL}
    attempts = {d.recipient: d.attempts for d in ledger.get_run(run_id).deliveries}
    assert attempts == {"director@example.com": 3, "manager@example.com": 1,
                        "auditor@example.com": 1}


def test_permanent_refusal_is_recorded_for_that_recipient_and_not_retried(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer) -> None:
    loaded, content, artifacts, run_id = rendered_run(report_dir, ledger)
    smtp_server.handler.refuse["manager@example.com"] = "550 5.1.1 No such user"
    waits: list[float] = []
    report = deliver_email(content, artifacts, loaded.definition.delivery.email,
                           smtp_settings(smtp_server), ledger=ledger, run_id=run_id,
                           sleep=waits.append)

    assert {o.recipient: o.status for o in report.outcomes} == {
        "director@example.com": "sent", "manager@example.com": "failed_permanent",
        "auditor@example.com": "sent"}
    assert waits == []
    row = ledger.delivery_state("mqr", "2026-10", "email", "manager@example.com")
    assert row is not None and row.attempts == 1 and "550" in (row.last_error or "")


def test_transient_refusal_is_retried_then_recorded(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer) -> None:
    loaded, content, artifacts, run_id = rendered_run(report_dir, ledger)
    smtp_server.handler.refuse["manager@example.com"] = "451 4.3.0 Try again later"
    waits: list[float] = []
    deliver_email(content, artifacts, loaded.definition.delivery.email,
                  smtp_settings(smtp_server, attempts=3), ledger=ledger, run_id=run_id,
                  sleep=waits.append)

    row = ledger.delivery_state("mqr", "2026-10", "email", "manager@example.com")
    assert row is not None and row.status == "failed_transient" and row.attempts == 3
    assert len(waits) == 2


def test_line_breaks_in_a_subject_value_cannot_add_headers(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer) -> None:
    # a fan-out title holds a value from the data: its line break becomes a space
    loaded, content, artifacts, run_id = rendered_run(report_dir, ledger)
    evil = replace(content, title="Report\r\nBcc: everyone@example.com")

    deliver_email(evil, artifacts, loaded.definition.delivery.email,
                  smtp_settings(smtp_server), ledger=ledger, run_id=run_id)

    subjects = {m.message["Subject"] for m in smtp_server.received}
    assert len(subjects) == 1 and subjects.pop().startswith("Report Bcc: everyone@example.com")
    assert "everyone@example.com" not in smtp_server.by_recipient()
    assert all(m.message["Bcc"] is None for m in smtp_server.received)


def test_line_breaks_in_header_values_are_refused_before_sending(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer) -> None:
    loaded, content, artifacts, run_id = rendered_run(report_dir, ledger)
    spec = loaded.definition.delivery.email.model_copy(
        update={"reply_to": "a@example.com\r\nBcc: everyone@example.com"})

    with pytest.raises(HeaderInjectionError, match="Reply-To.*line break"):
        deliver_email(content, artifacts, spec, smtp_settings(smtp_server), ledger=ledger,
                      run_id=run_id)
    assert smtp_server.received == [] and smtp_server.handler.mail_commands == 0


def test_oversized_attachment_is_refused_before_connecting(
        report_dir: Path, ledger: Ledger) -> None:
    loaded, content, artifacts, run_id = rendered_run(report_dir, ledger)
    spec = loaded.definition.delivery.email.model_copy(update={"max_attachment_mb": 0.0001})
    closed = SmtpServer()  # never started: connecting would fail with a different error

    with pytest.raises(AttachmentTooLarge) as caught:
        deliver_email(content, artifacts, spec, smtp_settings(closed), ledger=ledger,
                      run_id=run_id)
    message = str(caught.value)
    assert artifacts[0].path in message and f"{artifacts[0].size} bytes" in message
    assert "0.0001 MB limit" in message
    assert ledger.get_run(run_id).deliveries == ()


def test_pptx_is_attached_when_asked(report_dir: Path, ledger: Ledger,
                                     smtp_server: SmtpServer) -> None:
    loaded, content, artifacts, run_id = rendered_run(report_dir, ledger, ["pdf", "pptx"])
    spec = loaded.definition.delivery.email.model_copy(
        update={"attach": ["pdf", "pptx"], "to": ["director@example.com"], "cc": [], "bcc": []})
    deliver_email(content, artifacts, spec, smtp_settings(smtp_server), ledger=ledger,
                  run_id=run_id)

    (received,) = smtp_server.received
    names = sorted(a.get_filename() for a in received.message.iter_attachments())
    assert names == ["mqr-2026-10.pdf", "mqr-2026-10.pptx"]


def test_password_is_never_logged_nor_stored(report_dir: Path, tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    password = "s3cret-Pa55word!"
    server = SmtpServer(login=("reports", password)).start()
    ledger = Ledger(f"sqlite:///{tmp_path / 'secret-runs.sqlite'}")
    caplog.set_level(logging.DEBUG)
    try:
        loaded, content, artifacts, run_id = rendered_run(report_dir, ledger)
        environ = {"SMTP_PASSWORD": password}
        good = smtp_settings(server, user="reports", password_env="SMTP_PASSWORD")
        deliver_email(content, artifacts, loaded.definition.delivery.email, good,
                      ledger=ledger, run_id=run_id, environ=environ)
        # A wrong password is refused (535): the error is recorded, the secret is not.
        wrong = {"SMTP_PASSWORD": password + "-but-wrong"}
        loaded2 = loaded.definition.delivery.email.model_copy(
            update={"to": ["other@example.com"], "cc": [], "bcc": []})
        deliver_email(content, artifacts, loaded2, good, ledger=ledger, run_id=run_id,
                      environ=wrong)
    finally:
        server.stop()
        ledger.close()

    assert server.handler.logins == ["reports"]
    assert len(server.received) == 3
    failed = [d for d in Ledger(f"sqlite:///{tmp_path / 'secret-runs.sqlite'}")
              .get_run(run_id).deliveries if d.recipient == "other@example.com"]
    assert failed[0].status == "failed_permanent" and "535" in (failed[0].last_error or "")
    assert password not in caplog.text
    assert password.encode() not in (tmp_path / "secret-runs.sqlite").read_bytes()


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_encrypted_connections_verify_the_server(report_dir: Path, ledger: Ledger,
                                                 tmp_path: Path, security: str) -> None:
    server = SmtpServer(tls=security, cert_dir=tmp_path).start()  # type: ignore[arg-type]
    try:
        loaded, content, artifacts, run_id = rendered_run(report_dir, ledger)
        spec = loaded.definition.delivery.email.model_copy(
            update={"to": ["director@example.com"], "cc": [], "bcc": []})
        trusted = smtp_settings(server, security=security, ca_file=server.ca_file)
        ok = deliver_email(content, artifacts, spec, trusted, ledger=ledger, run_id=run_id)
        # Without trusting its certificate the server is refused, and not retried.
        other = spec.model_copy(update={"to": ["other@example.com"]})
        untrusted = smtp_settings(server, security=security)
        refused = deliver_email(content, artifacts, other, untrusted, ledger=ledger,
                                run_id=run_id, sleep=lambda s: pytest.fail("retried"))
    finally:
        server.stop()

    assert [o.status for o in ok.outcomes] == ["sent"]
    assert len(server.received) == 1
    (outcome,) = refused.outcomes
    assert outcome.status == "failed_permanent" and "CERTIFICATE_VERIFY_FAILED" in (
        outcome.error or "")


def test_a_server_that_never_answers_times_out_as_transient(
        report_dir: Path, ledger: Ledger) -> None:
    loaded, content, artifacts, run_id = rendered_run(report_dir, ledger)
    spec = loaded.definition.delivery.email.model_copy(
        update={"to": ["director@example.com"], "cc": [], "bcc": []})
    with socket.socket() as silent:  # accepts connections, never sends a greeting
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        settings = SmtpSettings(host="127.0.0.1", port=port, security="none",
                                from_address="reports@example.com", timeout=0.2, attempts=2,
                                backoff_seconds=0, local_hostname="reportgen.test")
        report = deliver_email(content, artifacts, spec, settings, ledger=ledger,
                               run_id=run_id, sleep=lambda s: None)

    (outcome,) = report.outcomes
    assert outcome.status == "failed_transient" and outcome.attempts == 2
    assert "timed out" in (outcome.error or "")


def test_settings_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text(
        "ledger_url: sqlite:///state/runs.sqlite\n"
        "smtp:\n"
        "  host: mail.example.com\n"
        "  user: reports\n"
        "  password_env: REPORTS_SMTP_PASSWORD\n"
        "  from_address: ${FROM_ADDRESS}\n"
        "  ca_file: certs/ca.pem\n", encoding="utf-8")
    env = {"FROM_ADDRESS": "qa@example.com", "REPORTGEN_SMTP_PORT": "2525",
           "REPORTS_SMTP_PASSWORD": "pw-from-env"}

    settings = load_settings(path, env)

    assert settings.smtp is not None
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.from_address) == (
        "mail.example.com", 2525, "qa@example.com")
    assert settings.smtp.ca_file == tmp_path.resolve() / "certs/ca.pem"
    assert settings.resolved_ledger_url() == f"sqlite:///{tmp_path.resolve()}/state/runs.sqlite"
    assert settings.resolved_jobstore_url() == (
        f"sqlite:///{tmp_path.resolve()}/state/reportgen-jobs.sqlite")
    assert settings.smtp.password(env) == "pw-from-env"
    assert "pw-from-env" not in repr(settings)
    with pytest.raises(SettingsError, match=r"\$\{REPORTS_SMTP_PASSWORD\}.*not set"):
        settings.smtp.password({})

    path.write_text("smtp:\n  host: x\n  port: many\n  from_address: a@example.com\n")
    with pytest.raises(SettingsError, match=rf"{path}:3:\d+ smtp.port"):
        load_settings(path, {})
