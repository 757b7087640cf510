"""Which numbers a stored webhook event may change: its signature scope (``whatsapp.signers``).

A message, status, reaction, account or template change about a number outside the scope is never
applied: it is logged, and counted in the event's ``error``. A change about a whole business
account reaches only the numbers of that account the scope covers.

Events stored before scopes were recorded (``signature_scope`` empty) were accepted when any secret
of any number they named verified them. They are taken as signed by the platform's app: they reach
only numbers without an app secret of their own (whose webhooks the platform's app does sign), so a
body forged with a tenant's own secret before the upgrade is not applied after it either.
"""

from __future__ import annotations

import structlog

from cxinbox.models.whatsapp import WebhookEvent, WhatsAppAccount

log = structlog.get_logger(__name__)


class SignatureScope:
    def __init__(self, event: WebhookEvent) -> None:
        self.event_id = event.id
        scope = event.signature_scope
        self._numbers = frozenset(scope) if scope is not None else None
        #: changes of the event about numbers the scope does not cover
        self.refused = 0

    def may_cover(self, phone_number_id: str) -> bool:
        """False when ``phone_number_id`` is outside the scope whatever its account (it need not be
        read)."""
        return self._numbers is None or phone_number_id in self._numbers

    def admits(self, phone_number_id: str, account: WhatsAppAccount | None) -> bool:
        """Whether a change about ``phone_number_id`` (whose live account is ``account``, if any) may be
        applied; a refusal is logged and counted."""
        if self._numbers is None:
            admitted = account is None or not account.has_own_app_secret
        else:
            admitted = phone_number_id in self._numbers
        if not admitted:
            self.refused += 1
            log.warning(
                "whatsapp_webhook_change_outside_signature_scope",
                event_id=self.event_id,
                phone_number_id=phone_number_id,
                organization_id=account.organization_id if account is not None else None,
            )
        return admitted

    def admits_account(self, account: WhatsAppAccount) -> bool:
        return self.admits(account.phone_number_id, account)

    @property
    def note(self) -> str | None:
        """What the event's ``error`` says of the refusals."""
        if not self.refused:
            return None
        return f"ignored: {self.refused} change(s) about numbers the signature does not cover"
