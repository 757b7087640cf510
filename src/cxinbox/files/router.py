from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from cxinbox.auth.dependencies import RuntimeDep
from cxinbox.core.errors import NotFound
from cxinbox.files.service import PUBLIC_PREFIX, served_as, url_is_valid

router = APIRouter(prefix="/files", tags=["files"])


@router.get(
    "/{key:path}",
    summary="A stored file (public keys openly; private keys by signed URL)",
    description="Raster images, audio and video are served inline; every other file is a download "
    "(`Content-Disposition: attachment`), as `application/octet-stream` unless it is a known "
    "document type. Every file is sandboxed (`Content-Security-Policy: sandbox`, `nosniff`).",
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
    cache = "public, max-age=300" if key.startswith(PUBLIC_PREFIX) else "private, max-age=60"
    media_type, headers = served_as(key, content_type)
    return Response(data, media_type=media_type, headers={"Cache-Control": cache, **headers})
