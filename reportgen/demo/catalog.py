"""Fixed vocabularies of the demo world: queues, sites, channels, reasons, names, scorecard."""

from __future__ import annotations

from dataclasses import dataclass

# --- queues -------------------------------------------------------------------------------
# Volume shares sum to 1; ``family`` selects the contact-reason list; ``agents`` is the
# head count, roughly proportional to volume so agents carry similar loads.
QUEUES: tuple[tuple[str, float, str, int], ...] = (
    ("Billing", 0.22, "money", 16),
    ("Payments", 0.10, "money", 8),
    ("Account Access", 0.10, "account", 8),
    ("Onboarding", 0.08, "account", 7),
    ("Technical Support", 0.14, "technical", 11),
    ("Shipping", 0.12, "logistics", 10),
    ("Returns", 0.08, "logistics", 7),
    ("Trust & Safety", 0.05, "trust", 5),
    ("Enterprise", 0.05, "technical", 4),
    ("General", 0.06, "general", 4),
)
QUEUE_NAMES: tuple[str, ...] = tuple(q[0] for q in QUEUES)
QUEUE_SHARES: tuple[float, ...] = tuple(q[1] for q in QUEUES)
QUEUE_FAMILY: dict[str, str] = {q[0]: q[2] for q in QUEUES}
QUEUE_AGENTS: dict[str, int] = {q[0]: q[3] for q in QUEUES}

# Hours from created to solved are multiplied by this (harder queues take longer).
QUEUE_RESOLUTION_FACTOR: dict[str, float] = {
    "Billing": 1.0, "Payments": 1.1, "Account Access": 0.8, "Onboarding": 0.9,
    "Technical Support": 1.8, "Shipping": 1.2, "Returns": 1.1, "Trust & Safety": 2.0,
    "Enterprise": 1.6, "General": 0.7,
}
# Small, stable satisfaction offsets (logit scale) so queues differ realistically.
QUEUE_CSAT_OFFSET: dict[str, float] = {
    "Billing": 0.22, "Payments": 0.0, "Account Access": -0.15, "Onboarding": 0.25,
    "Technical Support": -0.2, "Shipping": -0.1, "Returns": 0.05, "Trust & Safety": -0.35,
    "Enterprise": 0.2, "General": 0.15,
}
QUEUE_ESCALATION_RATE: dict[str, float] = {
    "Billing": 0.05, "Payments": 0.07, "Account Access": 0.06, "Onboarding": 0.04,
    "Technical Support": 0.14, "Shipping": 0.06, "Returns": 0.05, "Trust & Safety": 0.15,
    "Enterprise": 0.12, "General": 0.03,
}

REASONS: dict[str, tuple[str, ...]] = {
    "money": (
        "Refund request", "Unexpected charge", "Invoice copy", "Change payment method",
        "Card declined", "Subscription cancellation", "Plan upgrade", "Promo code not applied",
        "Double charge", "Tax / VAT question", "Billing address update", "Payment failed",
    ),
    "account": (
        "Password reset", "Two-factor issue", "Locked account", "Email change",
        "Account setup", "Import data", "Team invitations", "Profile update",
        "Account deletion", "Login loop", "SSO configuration", "Getting started",
    ),
    "technical": (
        "App crash", "Sync error", "Integration not working", "Slow performance",
        "Feature question", "API error", "Data missing", "Notification issue",
        "Export failed", "Bug report", "Browser compatibility", "Outage report",
    ),
    "logistics": (
        "Where is my order", "Delivery delayed", "Damaged item", "Wrong item",
        "Change address", "Return label", "Refund status", "Missing parts",
        "Exchange request", "Carrier issue", "Customs fees", "Pickup scheduling",
    ),
    "trust": (
        "Report user", "Fraud report", "Account compromised", "Content appeal",
        "Phishing report", "Impersonation", "Scam message", "Privacy request",
        "Blocked listing", "Verification", "Chargeback dispute", "Safety concern",
    ),
    "general": (
        "General question", "Feedback", "Opening hours", "Partnership inquiry",
        "Press inquiry", "Feature request", "Complaint", "Accessibility",
        "Contact details", "Pricing question", "Gift card", "Other",
    ),
}
# Reasons most affected by the refund-policy change in Billing.
REFUND_REASONS: tuple[str, ...] = ("Refund request", "Subscription cancellation", "Double charge")

# --- sites, channels, priorities ----------------------------------------------------------
SITES: tuple[str, ...] = ("Lisbon", "Manila", "Austin")
CHANNELS: tuple[str, ...] = ("email", "chat", "phone", "social")
# How the non-chat share divides among the other channels.
NON_CHAT_SPLIT: dict[str, float] = {"email": 0.55, "phone": 0.35, "social": 0.10}
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
PRIORITY_SHARES: tuple[float, ...] = (0.22, 0.55, 0.18, 0.05)

# First-reply SLA targets in minutes, by channel then priority.
SLA_TARGET_MINUTES: dict[str, dict[str, float]] = {
    "email": {"low": 1440, "normal": 480, "high": 240, "urgent": 60},
    "chat": {"low": 10, "normal": 5, "high": 3, "urgent": 2},
    "phone": {"low": 5, "normal": 3, "high": 2, "urgent": 1},
    "social": {"low": 240, "normal": 120, "high": 60, "urgent": 30},
}
# First replies are lognormal with median = target x factor, so about 85% meet the SLA.
FIRST_RESPONSE_SHAPE: dict[str, tuple[float, float]] = {  # (median/target, sigma)
    "email": (0.40, 0.85), "chat": (0.35, 0.80), "phone": (0.45, 0.70), "social": (0.40, 1.0),
}
RESOLUTION_MEDIAN_HOURS: dict[str, float] = {"email": 16.0, "chat": 0.6, "phone": 0.4, "social": 8.0}
HANDLE_MEDIAN_MINUTES: dict[str, float] = {"email": 7.0, "chat": 12.0, "phone": 9.0, "social": 5.0}
ONE_TOUCH_RATE: dict[str, float] = {"email": 0.45, "chat": 0.72, "phone": 0.78, "social": 0.55}
SURVEY_RATE: dict[str, float] = {"email": 0.95, "chat": 0.92, "phone": 0.85, "social": 0.60}
RESPONSE_RATE: dict[str, float] = {"email": 0.32, "chat": 0.27, "phone": 0.24, "social": 0.22}
# Chat rates lower than email: part of the mix-shift story.
CHANNEL_CSAT_LOGIT: dict[str, float] = {"email": 2.25, "chat": 1.50, "phone": 2.05, "social": 1.35}

# --- QA scorecard -------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """One scorecard category: weight, scale, criticality and how often it is N/A."""

    name: str
    weight: float
    scale_min: int
    scale_max: int
    critical: bool
    defect_rate: float  # baseline share of reviews rated a defect
    na_rate: float


SCORECARD_NAME = "Support v3"
SCORECARD: tuple[Category, ...] = (
    Category("Greeting & tone", 1.0, 1, 4, False, 0.04, 0.0),
    Category("Understanding the issue", 2.0, 1, 4, False, 0.07, 0.0),
    Category("Correct information", 3.0, 1, 4, False, 0.068, 0.0),
    Category("Process followed", 2.0, 1, 4, False, 0.10, 0.06),
    Category("Resolution", 3.0, 1, 4, False, 0.09, 0.05),
    Category("Empathy", 1.0, 1, 4, False, 0.07, 0.12),
    Category("Writing quality", 1.0, 1, 4, False, 0.06, 0.08),
    Category("Data protection", 1.0, 0, 1, True, 0.015, 0.0),
)
# Calibration uses the graded (1-4) categories only.
CALIBRATION_CATEGORIES: tuple[Category, ...] = tuple(c for c in SCORECARD if not c.critical)

# --- moderation ---------------------------------------------------------------------------
POLICY_AREAS: tuple[str, ...] = (
    "spam", "hate_speech", "harassment", "adult", "violence", "misinformation",
)
POLICY_SHARES: tuple[float, ...] = (0.33, 0.12, 0.24, 0.12, 0.09, 0.10)
ACTIONS: tuple[str, ...] = ("remove", "restrict", "no_action")
# P(action) by policy area.
ACTION_MIX: dict[str, tuple[float, float, float]] = {
    "spam": (0.72, 0.08, 0.20), "hate_speech": (0.55, 0.15, 0.30),
    "harassment": (0.50, 0.22, 0.28), "adult": (0.48, 0.32, 0.20),
    "violence": (0.60, 0.15, 0.25), "misinformation": (0.30, 0.35, 0.35),
}
# Share of actioned decisions that are appealed, and the usual overturn rate of appeals.
APPEAL_RATE: dict[str, float] = {
    "spam": 0.05, "hate_speech": 0.16, "harassment": 0.25, "adult": 0.12,
    "violence": 0.12, "misinformation": 0.20,
}
OVERTURN_RATE: dict[str, float] = {
    "spam": 0.10, "hate_speech": 0.15, "harassment": 0.17, "adult": 0.12,
    "violence": 0.13, "misinformation": 0.22,
}

# --- names (fake people; every address uses a reserved example domain) ---------------------
FIRST_NAMES: tuple[str, ...] = (
    "Ana", "Bruno", "Carla", "Diego", "Elena", "Filipe", "Grace", "Hugo", "Ines", "Jamal",
    "Kim", "Liam", "Maria", "Noah", "Olivia", "Paulo", "Quinn", "Rosa", "Sam", "Tiago",
    "Uma", "Victor", "Wendy", "Xavier", "Yara", "Zoe", "Aisha", "Ben", "Chloe", "Dmitri",
    "Emma", "Farah", "Gabriel", "Hana", "Ivan", "Julia", "Kofi", "Lucia", "Marco", "Nadia",
    "Oscar", "Priya", "Rafael", "Sofia", "Tomas", "Valentina", "Wei", "Yusuf", "Amara", "Leo",
    "Mateo", "Isla", "Arjun", "Chen", "Daniela", "Ethan", "Fatima", "Jose", "Mia", "Nikhil",
)
LAST_NAMES: tuple[str, ...] = (
    "Silva", "Santos", "Reyes", "Cruz", "Garcia", "Smith", "Johnson", "Brown", "Martins",
    "Costa", "Ferreira", "Bautista", "Mendoza", "Lopez", "Nguyen", "Kim", "Patel", "Khan",
    "Okafor", "Mensah", "Novak", "Rossi", "Muller", "Dubois", "Haddad", "Tanaka", "Ali",
    "Pereira", "Lim", "Tan", "Torres", "Ramos", "Walker", "Young", "Hughes", "Bennett",
    "Carter", "Flores", "Rivera", "Gomez", "Ortiz", "Diaz", "Castro", "Moreno", "Alves",
    "Sousa", "Aquino", "Villanueva", "Jensen", "Larsen",
)
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net")

# --- survey comments ----------------------------------------------------------------------
POSITIVE_COMMENTS: tuple[str, ...] = (
    "Quick and friendly, thank you!", "Solved on the first try.", "Great help, very clear.",
    "The agent was patient and knew the product.", "Fast answer, problem gone.",
    "Really appreciated the follow-up.", "Excellent service as always.",
    "Clear steps, easy to follow.", "Thanks for sorting this out so quickly.",
    "Helpful and polite.",
)
NEUTRAL_COMMENTS: tuple[str, ...] = (
    "Fine, but it took a while.", "OK in the end.", "Had to explain twice but got there.",
    "Answer was correct but a bit generic.", "Took longer than expected.",
)
NEGATIVE_COMMENTS: tuple[str, ...] = (
    "Still not fixed.", "I had to contact you three times.", "Nobody read my message properly.",
    "The answer was wrong and I lost time.", "Waited far too long for a reply.",
    "The agent closed my ticket without solving it.", "Copy-paste answer, not helpful.",
    "I was transferred between teams with no result.",
)
# Most name the refund policy; one asks for the money back, so the report's themes are the
# phrases customers use.
REFUND_POLICY_COMMENTS: tuple[str, ...] = (
    "The new refund policy is unfair.", "Why can I no longer get my money back after 14 days?",
    "Refund refused because of the new refund policy, very disappointed.",
    "You changed the refund policy without telling customers.",
)
PII_COMMENT_TEMPLATES: tuple[str, ...] = (
    "Please reach me at {email} instead.", "Call me back on {phone}, email does not work.",
    "My other address is {email}, use that one.", "You can text me at {phone}.",
)
