"""Typed application errors, rendered by one handler into the contract's error envelope."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code: int = 500
    code: str = "INTERNAL_ERROR"
    message: str = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
        keep_changes: bool = False,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.details = details
        self.headers = headers or {}
        #: commit the unit of work before answering with this error (e.g. a failed attempt counted,
        #: a stolen token family revoked): the error is the answer, the state change must stay
        self.keep_changes = keep_changes
        super().__init__(self.message)

    @staticmethod
    def responses(*errors: type[AppError] | AppError) -> dict[int | str, dict[str, Any]]:
        """The ``responses=`` of a route that can answer these errors: each status lists its codes
        (an instance names a specific code, e.g. ``Conflict(code="WINDOW_CLOSED")``). The OpenAPI
        document renders them in the error envelope (``cxinbox.api_docs.openapi``)."""
        by_status: dict[int | str, dict[str, Any]] = {}
        for error in errors:
            entry = by_status.setdefault(error.status_code, {"x-error-codes": []})
            if error.code not in entry["x-error-codes"]:
                entry["x-error-codes"].append(error.code)
        return by_status

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class ValidationFailed(AppError):
    status_code = 400
    code = "VALIDATION_ERROR"
    message = "The request is not valid"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", details=[{"field": field, "message": message}])


class BadRequest(AppError):
    status_code = 400
    code = "BAD_REQUEST"
    message = "Bad request"


class Unauthorized(AppError):
    status_code = 401
    code = "UNAUTHORIZED"
    message = "Authentication required"


class PlanLimitReached(AppError):
    status_code = 402
    code = "PLAN_LIMIT_REACHED"
    message = "The organization's plan limit is reached"


class Forbidden(AppError):
    status_code = 403
    code = "FORBIDDEN"
    message = "You are not allowed to do this"


class NotFound(AppError):
    status_code = 404
    code = "NOT_FOUND"
    message = "Not found"


class MethodNotAllowed(AppError):
    status_code = 405
    code = "METHOD_NOT_ALLOWED"
    message = "Method not allowed"


class Conflict(AppError):
    status_code = 409
    code = "CONFLICT"
    message = "The request conflicts with the current state"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "The request body is too large"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    message = "Unsupported media type"


class RateLimited(AppError):
    status_code = 429
    code = "RATE_LIMITED"
    message = "Too many requests"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        retry_after = max(1, int(retry_after))
        super().__init__(
            message, details={"retryAfter": retry_after}, headers={"Retry-After": str(retry_after)}
        )


class NotImplementedYet(AppError):
    status_code = 501
    code = "NOT_IMPLEMENTED"
    message = "This capability is not available yet"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    message = "A dependency is unavailable"


#: Error code for each HTTP status the framework itself may answer with.
STATUS_CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    402: "PLAN_LIMIT_REACHED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    501: "NOT_IMPLEMENTED",
    503: "SERVICE_UNAVAILABLE",
}
