"""Reading a request body: optional gzip, a size cap, strict JSON into a schema."""

from __future__ import annotations

import zlib
from typing import TypeVar

import pydantic
from django.http import HttpRequest

from oxytrack.ingest.errors import ApiError, Code

Model = TypeVar("Model", bound=pydantic.BaseModel)

# gzip adds ~18 bytes per member and a little per block even on random data.
_GZIP_SLACK = 64 * 1024


def read_body(request: HttpRequest, max_bytes: int) -> bytes:
    """The body, gunzipped when `Content-Encoding: gzip`, refused past `max_bytes`.

    The cap applies to the decompressed size, and decompression stops as
    soon as it is passed, so a gzip bomb costs `max_bytes` of memory at most.
    Reads the stream directly: Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
    is for forms, our limit is OXYTRACK_MAX_BATCH_BYTES.
    """
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip"):
        raise ApiError(
            415,
            Code.UNSUPPORTED_ENCODING,
            f"Content-Encoding {encoding!r} is not supported: send gzip or nothing.",
        )
    limit = max_bytes + (_GZIP_SLACK if encoding == "gzip" else 0)
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise _too_large(max_bytes)
    if encoding != "gzip":
        return raw
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise ApiError(400, Code.MALFORMED, f"invalid gzip data: {exc}") from None
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    if not inflater.eof or inflater.unused_data:
        raise ApiError(400, Code.MALFORMED, "invalid gzip data: truncated or trailing bytes")
    return data


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413,
        Code.TOO_LARGE,
        f"Lot trop gros (plus de {max_bytes} octets décompressés). / "
        f"Batch too large (over {max_bytes} bytes decompressed): send smaller batches.",
    )


def parse_json(data: bytes, model: type[Model]) -> Model:
    """`data` validated into `model`: 400 if it is not a JSON object, 422 if a field is wrong."""
    if not data.strip():
        raise ApiError(400, Code.MALFORMED, "empty body: a JSON object is expected")
    try:
        return model.model_validate_json(data)
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        first = errors[0]
        if first["type"] == "json_invalid" or (first["type"] == "model_type" and not first["loc"]):
            raise ApiError(400, Code.MALFORMED, f"not a JSON object: {first['msg']}") from None
        loc = ".".join(str(part) for part in first["loc"])
        raise ApiError(422, Code.INVALID_FIELD, f"{loc}: {first['msg']}") from None
