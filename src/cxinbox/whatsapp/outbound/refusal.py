"""The states in which a number sends nothing, and the error that says why.

A number disconnected here, or whose WhatsApp Business Account Meta disabled or deleted, cannot
send: a send answers 409 at once, and a message queued before the change fails at once with the
same reason instead of reaching the Graph API.
"""

from __future__ import annotations

from cxinbox.core.errors import Conflict
from cxinbox.models.whatsapp import AccountStatus


class AccountDisconnected(Conflict):
    code = "ACCOUNT_DISCONNECTED"
    message = "The conversation's WhatsApp number is no longer connected"


class AccountDisabled(Conflict):
    code = "ACCOUNT_DISABLED"
    message = (
        "Meta disabled the WhatsApp Business Account of the conversation's number: nothing can be sent "
        "until Meta reinstates it"
    )


class AccountDeleted(Conflict):
    code = "ACCOUNT_DELETED"
    message = (
        "The WhatsApp Business Account of the conversation's number was deleted at Meta: connect the "
        "number again to send"
    )


REFUSALS: dict[AccountStatus, type[Conflict]] = {
    AccountStatus.DISCONNECTED: AccountDisconnected,
    AccountStatus.DISABLED: AccountDisabled,
    AccountStatus.DELETED: AccountDeleted,
}


def send_refusal(status: AccountStatus) -> Conflict | None:
    """Why a number in ``status`` cannot send; None when it may try (a TOKEN_INVALID number tries,
    and fails with Meta's own error while its token is refused)."""
    refusal = REFUSALS.get(status)
    return refusal() if refusal is not None else None
