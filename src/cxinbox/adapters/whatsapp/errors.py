"""Graph API errors, typed with Meta's code and subcode and whether trying again may succeed."""

from __future__ import annotations

from typing import Any

#: Meta error codes that a later attempt may get past (throughput, generic, temporary errors)
RETRYABLE_CODES = frozenset({1, 2, 4, 17, 80007, 130429, 131000, 131016, 131056, 133004})
#: codes that will fail the same way again, whatever the HTTP status (bad parameter, expired token,
#: outside the service window, undeliverable, declined; 132xxx are template errors)
PERMANENT_CODES = frozenset({100, 190, 131008, 131026, 131047, 131049, 131051})


class GraphError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str | None = None,
        retryable: bool | None = None,
        user_message: str | None = None,
        unanswered: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.subcode = subcode
        self.fbtrace_id = fbtrace_id
        #: Meta's explanation for a person (``error_user_title`` and ``error_user_msg``), when given
        self.user_message = user_message
        self.retryable = _is_retryable(status, code) if retryable is None else retryable
        #: no answer came although the request may have reached Meta: whether it acted is unknown
        self.unanswered = unanswered

    @classmethod
    def from_response(cls, status: int, body: Any) -> GraphError:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(f"Graph API answered HTTP {status}", status=status)
        return cls(
            str(error.get("message") or f"Graph API answered HTTP {status}"),
            status=status,
            code=int_or_none(error.get("code")),
            subcode=int_or_none(error.get("error_subcode")),
            fbtrace_id=error.get("fbtrace_id"),
            user_message=_user_message(error),
        )

    @property
    def is_auth_error(self) -> bool:
        """The token is invalid or expired: the account needs a new one."""
        return self.code == 190

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "subcode": self.subcode, "message": self.message}


def _user_message(error: dict[str, Any]) -> str | None:
    parts = [str(error[k]).strip() for k in ("error_user_title", "error_user_msg") if error.get(k)]
    return ": ".join(p for p in parts if p)[:1000] or None


def _is_retryable(status: int | None, code: int | None) -> bool:
    """Timeouts and connection errors (no status), 5xx and 429 may pass later; known codes decide."""
    if code in RETRYABLE_CODES:
        return True
    if code in PERMANENT_CODES or (code is not None and 132000 <= code < 133000):
        return False
    return status is None or status >= 500 or status == 429


def int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
