"""Receiving an ingest's multipart body: the audio part spooled to disk (hashed on the way), never whole in memory,
the metadata part's bytes, and the client's checksums of the audio compared with what was received."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

from flask import request
from pydantic import BaseModel
from pydantic.json_schema import SkipJsonSchema
from werkzeug.exceptions import RequestEntityTooLarge

from recordings_service.calls import ingest
from recordings_service.errors import Invalid
from recordings_service.storage.spool import Spool, spool_dir
from web.api.validation import optional_header
from web.database import runtime
from web.form_text import ExactFieldParser, sent_bytes

# Room for the multipart framing and the metadata part on top of the audio itself.
ENVELOPE_BYTES = 1024 * 1024
MAX_FORM_PARTS = 8
# Werkzeug's decoder also applies this to its own read buffer (one read plus any partial boundary),
# so it must stay well above READ_BYTES; the metadata's real limit is checked when it is parsed.
FORM_MEMORY_BYTES = 1024 * 1024
# How much of the body the parser asks for at a time. gunicorn receives up to 1 MiB at once and copies what is left
# of it on every read: at Werkzeug's default 64 KiB, reading a one-minute call's 1 MB body through gunicorn and
# Werkzeug took 3.7 ms of CPU, at 256 KiB 2.4 ms; 512 KiB took more again (the decoder searches its whole buffer).
READ_BYTES = 256 * 1024
# Metadata sent as a form field (as `requests`' `data=` sends it) in a legacy code page was taken with U+FFFD for its
# ä and ö, which made two customers one (CUST-Öberg and CUST-Äberg alike) and an erasure of the real reference find
# nothing: field parts are read by the app's `ExactFieldParser`, which keeps the bytes sent, so `_metadata_part`
# gets them back and the metadata is refused as a file part is.


class Upload:
    """The audio part spooled to disk (hashed on the way) and the metadata part's bytes."""

    def __init__(self, audio: Spool, metadata: bytes) -> None:
        self.audio = audio
        self.metadata = metadata


def receive_upload(max_bytes: int) -> Upload:
    """Parse the multipart body chunk by chunk; file parts go to spools, never whole into memory."""
    if request.mimetype != "multipart/form-data":
        raise Invalid("body", "send multipart/form-data with parts audio and metadata", code="wrong_content_type")
    # The body as a whole is bounded by the endpoint's `allows_body`; each part by its spool or the form limit.
    directory = spool_dir(runtime().settings)
    md5 = "Content-MD5" in request.headers
    spools: list[Spool] = []

    def spool_factory(*_args: object, **_kwargs: object) -> Spool:
        spool = Spool(directory, max_bytes=max_bytes, md5=md5)
        spools.append(spool)
        return spool

    parser = ExactFieldParser(
        stream_factory=spool_factory,  # type: ignore[arg-type]
        max_form_memory_size=FORM_MEMORY_BYTES,
        max_form_parts=MAX_FORM_PARTS,
        buffer_size=READ_BYTES,
    )
    try:
        boundary = request.mimetype_params.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(request.stream, boundary, request.content_length)
        _refuse_repeated_parts(form, files)
        audio = files.get("audio")
        if audio is None or not isinstance(audio.stream, Spool):
            raise Invalid("audio", "the audio part (a file) is missing", code="missing")
        metadata = _metadata_part(form, files)
    except RequestEntityTooLarge:
        # Werkzeug's own limits, never the audio's (its spool raises `TooLarge` itself): a field part over
        # FORM_MEMORY_BYTES, which is the metadata, or more than MAX_FORM_PARTS parts. It was answered as audio over
        # the upload limit, one the request was far below.
        _discard(spools)
        message = (
            f"the metadata part is limited to {ingest.MAX_METADATA_BYTES} bytes, "
            f"and the form to {MAX_FORM_PARTS} parts (audio and metadata)"
        )
        raise Invalid("metadata", message, code="too_large") from None
    except ValueError:
        _discard(spools)
        raise Invalid("body", "the multipart body is malformed", code="malformed_body") from None
    except BaseException:
        _discard(spools)
        raise
    for spool in spools:
        if spool is not audio.stream:
            spool.discard()
    audio.stream.close()
    return Upload(audio.stream, metadata)


def _refuse_repeated_parts(form: Any, files: Any) -> None:
    """One audio part and one metadata part: of two, the first was taken and the other dropped unseen, so the call
    stored could be another than the one a proxy or a log of the request shows."""
    for name in ("audio", "metadata"):
        if len(form.getlist(name)) + len(files.getlist(name)) > 1:
            raise Invalid(name, f"the {name} part is given more than once; send one", code="duplicate_part")


def _metadata_part(form: Any, files: Any) -> bytes:
    if "metadata" in form:
        return sent_bytes(str(form["metadata"]))
    if "metadata" in files:
        part: bytes = files["metadata"].stream.read(ingest.MAX_METADATA_BYTES + 1)
        return part
    raise Invalid("metadata", "the metadata part is missing", code="missing")


def _discard(spools: list[Spool]) -> None:
    for spool in spools:
        spool.discard()


class ChecksumHeaders(BaseModel):
    """The ingest's optional digests of its audio part, declared in the API document (the view reads them itself)."""

    content_md5: str | SkipJsonSchema[None] = optional_header(
        "Content-MD5",
        "the audio part's MD5 (of that part's bytes, not the whole body's), base64; a mismatch is 422 "
        "`checksum_mismatch` naming this header, and nothing is stored",
    )
    x_checksum_sha256: str | SkipJsonSchema[None] = optional_header(
        "X-Checksum-SHA256",
        "the audio part's SHA-256, hex or base64; a mismatch is 422 `checksum_mismatch` naming this header, and "
        "nothing is stored",
    )


def verify_client_checksums(audio: Spool) -> None:
    """`Content-MD5` (base64) and `X-Checksum-SHA256` (hex or base64) describe the audio part."""
    md5 = request.headers.get("Content-MD5")
    if md5 is not None and not hmac.compare_digest(_digest_bytes(md5, "Content-MD5"), audio.md5):
        raise Invalid("Content-MD5", "the audio does not match Content-MD5", code="checksum_mismatch")
    sha256 = request.headers.get("X-Checksum-SHA256")
    if sha256 is not None and not hmac.compare_digest(
        _digest_bytes(sha256, "X-Checksum-SHA256"), bytes.fromhex(audio.sha256)
    ):
        raise Invalid("X-Checksum-SHA256", "the audio does not match X-Checksum-SHA256", code="checksum_mismatch")


def _digest_bytes(value: str, header: str) -> bytes:
    text = value.strip()
    try:
        if len(text) in (32, 64) and all(c in "0123456789abcdefABCDEF" for c in text):
            return bytes.fromhex(text)
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise Invalid(header, "not a hex or base64 digest", code="invalid_checksum") from None
