from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from cxinbox.auth.dependencies import RuntimeDep
from cxinbox.core.errors import NotFound
from cxinbox.files.service import url_is_valid

router = APIRouter(prefix="/files", tags=["files"])


@router.get(
    "/{key:path}",
    summary="A stored file (public keys openly; private keys by signed URL)",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, 404: {"description": "No such file"}},
)
async def get_file(
    key: str,
    runtime: RuntimeDep,
    expires: int | None = Query(None),
    signature: str | None = Query(None),
) -> Response:
    if not url_is_valid(runtime, key, expires, signature):
        raise NotFound("File not found")
    try:
        data, content_type = await runtime.storage.read(key)
    except (KeyError, ValueError) as exc:
        raise NotFound("File not found") from exc
    cache = "public, max-age=300" if key.startswith("public/") else "private, max-age=60"
    return Response(
        data, media_type=content_type, headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    )
