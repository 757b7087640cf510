from __future__ import annotations

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from cxinbox.auth.dependencies import RuntimeDep
from cxinbox.core.wire import Envelope

router = APIRouter(tags=["health"])
log = structlog.get_logger(__name__)


@router.get("/health", summary="Health check")
async def health() -> Envelope[dict[str, str]]:
    return Envelope(data={"status": "ok"})


@router.get(
    "/ready",
    summary="Readiness check (verifies DB connection)",
    responses={503: {"description": "A dependency does not answer"}},
)
async def ready(runtime: RuntimeDep) -> JSONResponse:
    try:
        checks = await runtime.check_ready()
    except Exception as exc:
        log.warning("not_ready", error=str(exc)[:200])
        return JSONResponse(
            {"error": {"code": "SERVICE_UNAVAILABLE", "message": "A dependency does not answer"}},
            status_code=503,
        )
    return JSONResponse({"data": {"status": "ready", "checks": checks}})
