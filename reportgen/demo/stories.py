"""The stories planted in the demo data, dated relative to the last month of the span."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from reportgen.period import Period


@dataclass(frozen=True)
class Story:
    """One effect planted in the demo data that a good report should find.

    ``scope`` names the slice it lives in as ``column=value`` pairs (``;``-separated),
    ``starts`` is the first day it applies and ``metric`` names the measure that moves.
    """

    key: str
    title: str
    description: str
    scope: str
    starts: date
    metric: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["starts"] = self.starts.isoformat()
        return data


@dataclass(frozen=True)
class StoryDates:
    """When each story starts, as datetime64[s] instants (UTC midnight)."""

    refund_policy_change: np.datetime64
    defects_ramp_start: np.datetime64
    coaching_start: np.datetime64
    chat_ramp_start: np.datetime64
    drift_start: np.datetime64
    overturn_month_start: np.datetime64
    automatic_scoring_start: np.datetime64

    @classmethod
    def for_end_month(cls, end_month: date) -> StoryDates:
        last = Period(end_month, "month")

        def instant(day: date) -> np.datetime64:
            return np.datetime64(day.isoformat(), "s")

        return cls(
            refund_policy_change=instant(end_month + timedelta(days=3)),
            defects_ramp_start=instant(last.shift(-2).start),
            coaching_start=instant(last.shift(-3).start),
            chat_ramp_start=instant(last.shift(-12).start),
            drift_start=instant(last.shift(-1).start),
            overturn_month_start=instant(end_month),
            automatic_scoring_start=instant(last.shift(-2).start),
        )


def planted_stories(end_month: date) -> tuple[Story, ...]:
    """The planted stories for data whose last month is ``end_month``."""
    dates = StoryDates.for_end_month(end_month)

    def day(instant: np.datetime64) -> date:
        return date.fromisoformat(str(instant.astype("datetime64[D]")))

    return (
        Story(
            key="billing_csat_drop",
            title="Refund-policy change hurts Billing CSAT",
            description=(
                "A stricter refund policy took effect on this day. For Billing tickets created "
                "from then on, the share of 4-5 ratings falls by roughly 10 points from about "
                "85%, mostly on refund, cancellation and double-charge contacts, which also "
                "become more frequent; negative comments mention the refund policy. Overall "
                "CSAT dips."
            ),
            scope="queue=Billing",
            starts=day(dates.refund_policy_change),
            metric="csat",
        ),
        Story(
            key="correct_information_defects",
            title="'Correct information' defects double",
            description=(
                "Over the last three months the defect rate of the 'Correct information' QA "
                "category climbs from about 8% to about 16% of reviews, driven by Technical "
                "Support and Shipping (an outdated knowledge-base article)."
            ),
            scope="category=Correct information; queue=Technical Support,Shipping",
            starts=day(dates.defects_ramp_start),
            metric="qa_category_defect_rate",
        ),
        Story(
            key="onboarding_coaching",
            title="Coaching lifts Onboarding QA scores",
            description=(
                "A coaching programme for the Onboarding team starts on this day; QA review "
                "scores for Onboarding tickets rise by about 6 points and stay there."
            ),
            scope="queue=Onboarding",
            starts=day(dates.coaching_start),
            metric="qa_review_score",
        ),
        Story(
            key="chat_mix_shift",
            title="Chat grows from a quarter to 40% of volume",
            description=(
                "Chat's share of tickets grows steadily from about 25% to about 40% over the "
                "year. Chat is rated lower than email, so overall CSAT drifts down through mix "
                "even where each channel's own CSAT is stable."
            ),
            scope="channel=chat",
            starts=day(dates.chat_ramp_start),
            metric="channel_share",
        ),
        Story(
            key="auditor_drift",
            title="Auditor AU07 becomes lenient",
            description=(
                "In the last two months auditor AU07 scores about 8 points above the calibrator "
                "on calibration tickets and rates categories higher in regular reviews."
            ),
            scope="auditor_id=AU07",
            starts=day(dates.drift_start),
            metric="calibration_bias",
        ),
        Story(
            key="harassment_overturns",
            title="Harassment appeal overturns double",
            description=(
                "In the last month the share of appealed harassment decisions that are "
                "overturned roughly doubles, from about 17% to about 38%."
            ),
            scope="policy_area=harassment",
            starts=day(dates.overturn_month_start),
            metric="appeal_overturn_rate",
        ),
        Story(
            key="correct_information_disputes",
            title="Disputes on 'Correct information' are mostly accepted",
            description=(
                "Agents' disputes of 'Correct information' defects are accepted about 60% of "
                "the time, against about 18% for the other categories: reviewers mark right "
                "answers wrong against the outdated article too."
            ),
            scope="category=Correct information",
            starts=day(np.datetime64(str(Period(end_month, "month").shift(-12).start), "s")),
            metric="dispute_accept_rate",
        ),
        Story(
            key="auto_scoring_tone",
            title="Automatic scoring disagrees with reviewers on 'Greeting & tone'",
            description=(
                "The automatic scorer copies the reviewer's judgement on about 85% of "
                "ratings in most categories, but on 'Greeting & tone' only about 30%, so its "
                "agreement there is little better than chance (kappa near 0.1)."
            ),
            scope="category=Greeting & tone",
            starts=day(np.datetime64(str(Period(end_month, "month").shift(-12).start), "s")),
            metric="auto_human_kappa",
        ),
        Story(
            key="audit_skips_long_chat",
            title="Reviewers turn down long chat tickets drawn for audit",
            description=(
                "Every month reviewers skip or replace about 11% of the tickets the QA tool "
                "draws for them (qa_sample): 70-85% of the tickets they turn down are chats, "
                "against about a third of those audited, and the median one took about twice "
                "the handle time of an audited ticket. The audits under-represent chat against "
                "all solved tickets, though chat passes about as often as the rest, so "
                "reweighting to the tickets' mix hardly moves the pass rate."
            ),
            scope="channel=chat",
            starts=day(np.datetime64(str(Period(end_month, "month").shift(-12).start), "s")),
            metric="audit_skip_share",
        ),
        Story(
            key="general_audit_shortfall",
            title="General is audited too few times to judge its pass rate",
            description=(
                "Reviews are spread so that every agent gets a similar number, and General's "
                "four agents handle more tickets each than most: its ~290 tickets a month get "
                "about 30 audits, fewer than the 38 a pass rate within ±15 points needs."
            ),
            scope="queue=General",
            starts=day(np.datetime64(str(Period(end_month, "month").shift(-12).start), "s")),
            metric="audit_sample_size",
        ),
        Story(
            key="autoqa_kept_apart",
            title="Unconfirmed automatic scores would pull the IQS down",
            description=(
                "Since this day the automatic scorer also rates solved tickets no reviewer "
                "audits (qa_auto_only), and reviewers confirm its ratings on about one such "
                "ticket in five (confirmed_by). Its guesses, and 'Greeting & tone' where it "
                "copies the reviewer's judgement only 30% of the time, run below reviewers' "
                "ratings: counting every automatic rating would put the IQS about 7 points "
                "below the reviewers' own."
            ),
            scope="confirmed_by=",
            starts=day(dates.automatic_scoring_start),
            metric="iqs",
        ),
        Story(
            key="resolution_predicts_recontact",
            title="'Resolution' defects bring customers back",
            description=(
                "About 45% of customers whose ticket had a 'Resolution' defect come back "
                "within 7 days (ticket_followups), against 13% otherwise; after a 'Correct "
                "information' defect 27% against 15%. Every reopened ticket is a re-contact, "
                "and the other rubric items do not move it: the QA score predicts re-contacts, "
                "and 'Resolution' is the item that does, CSAT too."
            ),
            scope="category=Resolution",
            starts=day(np.datetime64(str(Period(end_month, "month").shift(-12).start), "s")),
            metric="recontact_rate",
        ),
        Story(
            key="billing_refund_contacts_unusual",
            title="Billing's refund contacts are far above their usual level",
            description=(
                "The stricter refund policy (billing_csat_drop) sends more Billing customers to "
                "ask about refunds, cancellations and double charges: in the last month about "
                "40% more than the same month's usual level. contact_archive carries the "
                "contacts of the 23 months before the span from the previous helpdesk, so "
                "with the span's tickets there are three years to set the seasonal baseline."
            ),
            scope="queue=Billing",
            starts=day(dates.refund_policy_change),
            metric="contact_volume",
        ),
        Story(
            key="audit_under_represents_spanish",
            title="Audits under-represent Spanish tickets, which fail more often",
            description=(
                "About a fifth of solved tickets are Spanish (ticket_languages), but few "
                "reviewers read Spanish: under a tenth of the audits are Spanish tickets, and "
                "those fail far more often than the rest. Reweighted to all tickets' language "
                "mix, the pass rate is about three points below what the audits show."
            ),
            scope="language=Spanish",
            starts=day(np.datetime64(str(Period(end_month, "month").shift(-12).start), "s")),
            metric="audit_pass_rate_reweighted",
        ),
        Story(
            key="autoqa_empathy_drift",
            title="The automatic scorer drifts on 'Empathy'",
            description=(
                "From this day a new version of the automatic scorer rates 'Empathy' one step "
                "more generously than a reviewer would on about 60% of the tickets it alone "
                "scores. Reviewers re-rate about one such ticket in eight (qa_auto_checks), so "
                "its agreement with reviewers on 'Empathy' falls against the month before."
            ),
            scope="category=Empathy",
            starts=day(np.datetime64(str(Period(end_month, "month").start), "s")),
            metric="autoqa_agreement",
        ),
        Story(
            key="violence_portuguese_precision",
            title="Portuguese violence reports are over-enforced",
            description=(
                "Most violence decisions that enforce where the gold label says no action are "
                "on Portuguese items (moderation_decisions.language), so the policy area x "
                "language cell violence / Portuguese has a low precision against the rest."
            ),
            scope="policy_area=violence; language=Portuguese",
            starts=day(np.datetime64(str(Period(end_month, "month").shift(-12).start), "s")),
            metric="moderation_precision",
        ),
    )
