"""What an account-level webhook change means: the alert it raises and the number fields it sets.

Pure functions over Meta's payloads (no database, no routing), one per webhook field. Every field
may carry values this code does not know yet: those still raise an INFO alert naming what Meta sent,
so nothing Meta reports about an account goes unseen.

Alert ``type`` values: the ``account_update`` event (``ACCOUNT_VIOLATION``, ``ACCOUNT_RESTRICTION``,
``DISABLED_UPDATE``, ``ACCOUNT_DELETED``, ``PARTNER_REMOVED``, …), ``PHONE_NUMBER_QUALITY_UPDATE``,
``PHONE_NUMBER_NAME_UPDATE``, ``ACCOUNT_REVIEW_UPDATE``, ``BUSINESS_CAPABILITY_UPDATE``, the
``account_alerts`` alert type (``OBA_APPROVED``, ``PROFILE_PICTURE_LOST``, …) and ``TOKEN_INVALID``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cxinbox.models.whatsapp import AccountStatus, AlertSeverity
from cxinbox.whatsapp.payload import child, items

INFO, WARNING, CRITICAL = AlertSeverity.INFO, AlertSeverity.WARNING, AlertSeverity.CRITICAL
TITLE_LENGTH = 200


@dataclass(frozen=True)
class AlertDraft:
    type: str
    severity: AlertSeverity
    title: str
    message: str
    #: ``WhatsAppAccount`` columns the change sets on the number it names
    account_changes: dict[str, str] = field(default_factory=dict)
    #: the state the change puts every number of its WhatsApp Business Account in
    account_status: AccountStatus | None = None


def classify(field_name: str, value: dict[str, Any]) -> AlertDraft | None:
    """The alert a change of ``field_name`` raises; None for fields that are not about accounts."""
    classifier = CLASSIFIERS.get(field_name)
    return classifier(value) if classifier is not None else None


# --- account_update ---------------------------------------------------------------------------------

ACCOUNT_EVENTS: dict[str, tuple[AlertSeverity, str]] = {
    "ACCOUNT_VIOLATION": (WARNING, "The WhatsApp Business Account violated a WhatsApp policy"),
    "ACCOUNT_RESTRICTION": (CRITICAL, "The WhatsApp Business Account is restricted"),
    "ACCOUNT_DELETED": (CRITICAL, "The WhatsApp Business Account was deleted"),
    "ACCOUNT_OFFBOARDED": (CRITICAL, "The WhatsApp Business Account was offboarded"),
    "ACCOUNT_RECONNECTED": (INFO, "The WhatsApp Business Account was reconnected"),
    "PARTNER_REMOVED": (CRITICAL, "The WhatsApp Business Account is no longer shared with this platform"),
    "PARTNER_APP_UNINSTALLED": (CRITICAL, "The business removed this platform's access"),
    "PARTNER_ADDED": (INFO, "The WhatsApp Business Account was shared with this platform"),
    "PARTNER_APP_INSTALLED": (INFO, "The business granted this platform access"),
    "PARTNER_CLIENT_CERTIFICATION_STATUS_UPDATE": (INFO, "The business verification status changed"),
    "AD_ACCOUNT_LINKED": (INFO, "An ad account was linked"),
    "MM_LITE_TERMS_SIGNED": (INFO, "The Marketing Messages Lite terms were accepted"),
    "AUTH_INTL_PRICE_ELIGIBILITY_UPDATE": (INFO, "Eligible for authentication-international rates"),
    "BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE": (INFO, "The primary business location was set"),
    "VOLUME_BASED_PRICING_TIER_UPDATE": (INFO, "The volume pricing tier changed"),
}

BAN_STATES: dict[str, tuple[AlertSeverity, str]] = {
    "DISABLE": (CRITICAL, "The WhatsApp Business Account is disabled"),
    "SCHEDULE_FOR_DISABLE": (CRITICAL, "The WhatsApp Business Account is scheduled to be disabled"),
    "REINSTATE": (INFO, "The WhatsApp Business Account was reinstated"),
}

#: the events and ban states that change whether the account's numbers can send (a deleted account
#: has no way back but connecting its number again)
EVENT_ACCOUNT_STATES = {"ACCOUNT_DELETED": AccountStatus.DELETED}
BAN_ACCOUNT_STATES = {"DISABLE": AccountStatus.DISABLED, "REINSTATE": AccountStatus.CONNECTED}

#: verification outcomes that need the business to act
FAILED_CERTIFICATIONS = frozenset({"FAILED", "REVOKED"})


def account_update(value: dict[str, Any]) -> AlertDraft:
    event = str(value.get("event") or "ACCOUNT_UPDATE")
    severity, title = ACCOUNT_EVENTS.get(event, (INFO, f"Meta reported {_words(event)}"))
    status = EVENT_ACCOUNT_STATES.get(event)
    if event == "DISABLED_UPDATE":
        state = str(child(value, "ban_info").get("waba_ban_state") or "")
        severity, title = BAN_STATES.get(
            state, (WARNING, "The WhatsApp Business Account's ban state changed")
        )
        status = BAN_ACCOUNT_STATES.get(state)
    certification = child(value, "partner_client_certification_info")
    if str(certification.get("status")) in FAILED_CERTIFICATIONS:
        severity = WARNING
    message = _account_message(event, value)
    return AlertDraft(event, severity, title, message, account_status=status)


def _account_message(event: str, value: dict[str, Any]) -> str:
    if event == "ACCOUNT_VIOLATION":
        violation = child(value, "violation_info").get("violation_type") or "unspecified"
        return (
            f"Meta recorded a policy violation ({violation}). Review it in WhatsApp Manager: repeated "
            "violations lead to messaging restrictions."
        )
    if event == "ACCOUNT_RESTRICTION":
        restrictions = [
            f"{r.get('restriction_type') or 'UNKNOWN'} until {_epoch(r.get('expiration'))}"
            for r in items(value, "restriction_info")
        ]
        return "Meta restricted this account: " + ("; ".join(restrictions) or "no details given") + "."
    if event == "DISABLED_UPDATE":
        ban = child(value, "ban_info")
        state, since = ban.get("waba_ban_state") or "unknown", ban.get("waba_ban_date") or "unknown"
        return f"Ban state {state} (since {since})."
    return _facts(value, skip={"event"}) or f"Meta reported {event} for the WhatsApp Business Account."


# --- phone_number_quality_update ----------------------------------------------------------------------

QUALITY_EVENTS: dict[str, tuple[AlertSeverity, str]] = {
    "FLAGGED": (WARNING, "Quality is low: the number is flagged"),
    "UNFLAGGED": (INFO, "Quality recovered: the number is no longer flagged"),
    "DOWNGRADE": (WARNING, "The messaging limit was lowered"),
    "UPGRADE": (INFO, "The messaging limit was raised"),
    "THROUGHPUT_UPGRADE": (INFO, "The throughput was raised"),
    "ONBOARDING": (INFO, "The number is being onboarded"),
}
#: Meta flags a number when its quality drops to low, and unflags it once quality is back to medium or
#: better; the rating recorded here is that bound until a health check reads the exact one
QUALITY_RATINGS = {"FLAGGED": "RED", "UNFLAGGED": "YELLOW"}


def phone_number_quality(value: dict[str, Any]) -> AlertDraft:
    event = str(value.get("event") or "")
    severity, title = QUALITY_EVENTS.get(event, (INFO, "The number's quality or messaging limit changed"))
    limit = value.get("current_limit") or value.get("max_daily_conversations_per_business")
    changes = {"quality_rating": QUALITY_RATINGS[event]} if event in QUALITY_RATINGS else {}
    if isinstance(limit, str) and limit:
        changes["messaging_limit_tier"] = limit
    number = value.get("display_phone_number") or "The number"
    if value.get("old_limit") and limit:
        message = f"{number}: messaging limit {value['old_limit']} -> {limit}."
    elif limit:
        message = f"{number}: messaging limit {limit}."
    else:
        message = f"{number}: Meta reported {event or 'a quality change'}."
    if event == "FLAGGED":
        message += " The messaging limit may be lowered unless quality improves."
    return AlertDraft("PHONE_NUMBER_QUALITY_UPDATE", severity, title, message, changes)


# --- phone_number_name_update -------------------------------------------------------------------------

#: the display name decision -> the phone number's ``name_status`` as the Graph API spells it
NAME_STATUSES = {
    "APPROVED": "APPROVED",
    "REJECTED": "DECLINED",
    "PENDING": "PENDING_REVIEW",
    "DEFERRED": "PENDING_REVIEW",
}


def phone_number_name(value: dict[str, Any]) -> AlertDraft:
    decision = str(value.get("decision") or "")
    name = value.get("requested_verified_name") or "the requested name"
    changes = {"name_status": NAME_STATUSES[decision]} if decision in NAME_STATUSES else {}
    if decision == "APPROVED" and value.get("requested_verified_name"):
        changes["verified_name"] = str(value["requested_verified_name"])
    number = value.get("display_phone_number") or "The number"
    message = f"{number}: display name {name!r} is {decision.lower() or 'under review'}."
    if decision == "REJECTED":
        message += (
            f" Reason: {value.get('rejection_reason') or 'not given'}. Edit the name in WhatsApp Manager."
        )
    severity = WARNING if decision == "REJECTED" else INFO
    title = f"Display name {decision.lower()}" if decision else "Display name review updated"
    return AlertDraft("PHONE_NUMBER_NAME_UPDATE", severity, title, message, changes)


# --- account_review_update, business_capability_update, account_alerts --------------------------------


def account_review(value: dict[str, Any]) -> AlertDraft:
    decision = str(value.get("decision") or "")
    severity = {"APPROVED": INFO, "REJECTED": CRITICAL}.get(decision, WARNING)
    title = f"Account review {decision.lower() or 'updated'}"
    message = {
        "APPROVED": "The WhatsApp Business Account was approved and can be used.",
        "REJECTED": "The WhatsApp Business Account was rejected: it does not meet WhatsApp's policies.",
    }.get(decision, "The WhatsApp Business Account cannot be used until Meta completes its review.")
    return AlertDraft("ACCOUNT_REVIEW_UPDATE", severity, title, message)


def business_capability(value: dict[str, Any]) -> AlertDraft:
    message = _facts(value) or "Meta changed the business's capabilities."
    return AlertDraft("BUSINESS_CAPABILITY_UPDATE", INFO, "The business's capabilities changed", message)


#: Meta's own severities in ``account_alerts``
ALERT_SEVERITIES = {"CRITICAL": CRITICAL, "WARNING": WARNING, "INFORMATIONAL": INFO}


def account_alert(value: dict[str, Any]) -> AlertDraft:
    info = child(value, "alert_info")
    alert_type = str(info.get("alert_type") or "ACCOUNT_ALERT")
    severity = ALERT_SEVERITIES.get(str(info.get("alert_severity")), INFO)
    message = str(info.get("alert_description") or f"Meta reported {alert_type}.")
    return AlertDraft(alert_type, severity, _words(alert_type).capitalize(), message)


CLASSIFIERS: dict[str, Callable[[dict[str, Any]], AlertDraft]] = {
    "account_update": account_update,
    "phone_number_quality_update": phone_number_quality,
    "phone_number_name_update": phone_number_name,
    "account_review_update": account_review,
    "business_capability_update": business_capability,
    "account_alerts": account_alert,
}
#: webhook fields about numbers and their account (rather than messages or templates)
ACCOUNT_FIELDS = frozenset(CLASSIFIERS)


# --- text -------------------------------------------------------------------------------------------


def _words(code: str) -> str:
    return code.replace("_", " ").lower()


def _epoch(raw: Any) -> str:
    try:
        return datetime.fromtimestamp(int(raw), UTC).isoformat().replace("+00:00", "Z")
    except (TypeError, ValueError, OverflowError, OSError):
        return "further notice"


def _facts(value: dict[str, Any], skip: frozenset[str] | set[str] = frozenset()) -> str:
    """The scalar facts of ``value`` (one level of nesting) as "Label: value" sentences."""
    facts: list[str] = []
    for key, item in value.items():
        if key in skip:
            continue
        nested = item if isinstance(item, dict) else {key: item}
        for name, fact in nested.items():
            if isinstance(fact, str | int | float) and not isinstance(fact, bool):
                facts.append(f"{_words(name).capitalize()}: {fact}.")
            elif isinstance(fact, list) and all(isinstance(x, str) for x in fact):
                facts.append(f"{_words(name).capitalize()}: {', '.join(fact)}.")
    return " ".join(facts)
