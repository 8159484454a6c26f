"""Byte ranges after RFC 9110 §14 on the recording audio, each answer audited with the bytes it carried: a suffix
longer than the body is the whole body, `bytes=-0` is unsatisfiable, an unknown unit and a Range that If-Range
does not let apply are ignored, several ranges get the whole body (found by exploratory testing)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.models import Recording
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.audit import events
from tests.factories.recordings import STEREO, ingest_file, make_token
from web.api.ranges import Span, if_range_holds, parse_byte_ranges, select_span

ORIGINAL = STEREO.read_bytes()
SIZE = len(ORIGINAL)


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        (None, None),
        ("bytes=0-9", [(0, 9)]),
        ("BYTES = 5-", [(5, None)]),
        ("bytes=-400000", [(None, 400000)]),
        ("bytes=-0", [(None, 0)]),
        ("bytes=0-1, 5-6", [(0, 1), (5, 6)]),
        ("bytes=0-1,,", [(0, 1)]),
        ("items=0-9", None),
        ("bytes=9-0", None),
        ("bytes=a-b", None),
        ("bytes=", None),
        ("bytes 0-9", None),
        ("bytes=--5", None),
        ("bytes=\u0661-", None),  # digits are ASCII digits only
    ],
)
def test_parse_byte_ranges(header: str | None, parsed: list[tuple[int | None, int | None]] | None) -> None:
    assert parse_byte_ranges(header) == parsed


@pytest.mark.parametrize(
    ("if_range", "etag", "holds"),
    [
        (None, None, True),
        ('"bogus"', None, False),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None, False),
        ('"abc"', "abc", True),
        (' "abc" ', "abc", True),
        ('W/"abc"', "abc", False),  # If-Range compares strongly
        ('"abd"', "abc", False),
    ],
)
def test_if_range_holds(if_range: str | None, etag: str | None, holds: bool) -> None:
    assert if_range_holds(if_range, etag) is holds


@pytest.mark.parametrize(
    ("header", "if_range", "span"),
    [
        (None, None, Span(0, 1000, partial=False)),
        ("bytes=0-9", None, Span(0, 10, partial=True)),
        ("bytes=990-5000", None, Span(990, 1000, partial=True)),
        ("bytes=-10", None, Span(990, 1000, partial=True)),
        ("bytes=-1000", None, Span(0, 1000, partial=True)),
        ("bytes=-400000", None, Span(0, 1000, partial=True)),
        ("bytes=-0", None, None),
        ("bytes=1000-", None, None),
        ("items=0-9", None, Span(0, 1000, partial=False)),
        ("items=5000-", None, Span(0, 1000, partial=False)),
        ("bytes=9-0", None, Span(0, 1000, partial=False)),
        ("bytes=0-1,5-6", None, Span(0, 1000, partial=False)),
        ("bytes=100-", '"bogus"', Span(0, 1000, partial=False)),
        ("bytes=5000-", '"bogus"', Span(0, 1000, partial=False)),
        ("bytes=100-", "Wed, 21 Oct 2015 07:28:00 GMT", Span(0, 1000, partial=False)),
        (None, '"bogus"', Span(0, 1000, partial=False)),
        # More digits than int() reads (4300) answered 500; a position that long lies beyond any body.
        ("bytes=" + "9" * 5000 + "-", None, None),
        ("bytes=10-" + "9" * 5000, None, Span(10, 1000, partial=True)),
        ("bytes=-" + "9" * 5000, None, Span(0, 1000, partial=True)),
        ("bytes=" + "0" * 5000 + "5-" + "0" * 5000 + "9", None, Span(5, 10, partial=True)),
    ],
)
def test_select_span(header: str | None, if_range: str | None, span: Span | None) -> None:
    assert select_span(header, if_range, 1000) == span


def test_select_span_honours_if_range_only_on_a_strong_match_of_the_known_tag() -> None:
    assert select_span("bytes=100-", '"v1"', 1000, etag="v1") == Span(100, 1000, partial=True)
    assert select_span("bytes=100-", '"v0"', 1000, etag="v1") == Span(0, 1000, partial=False)


def test_select_span_of_an_empty_body() -> None:
    assert select_span("bytes=0-", None, 0) is None
    assert select_span("bytes=-5", None, 0) == Span(0, 0, partial=False)


@pytest.fixture
def call(session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings) -> Recording:
    recording = ingest_file(session, store, envelope, settings).recording
    session.commit()
    return recording


@pytest.mark.parametrize(
    ("headers", "status", "start", "content_range"),
    [
        ({"Range": "bytes=-400000"}, 206, 0, f"bytes 0-{SIZE - 1}/{SIZE}"),
        ({"Range": "items=0-9"}, 200, 0, None),
        ({"Range": "bytes=100-", "If-Range": '"bogus"'}, 200, 0, None),
        ({"Range": "bytes=100-", "If-Range": "Wed, 21 Oct 2015 07:28:00 GMT"}, 200, 0, None),
        ({"Range": "bytes=0-1,5-6"}, 200, 0, None),
        ({"Range": f"bytes={SIZE + 5}-", "If-Range": '"bogus"'}, 200, 0, None),
        ({"Range": "bytes=-" + "9" * 5000}, 206, 0, f"bytes 0-{SIZE - 1}/{SIZE}"),
    ],
    ids=[
        "suffix-longer-than-body",
        "unknown-unit",
        "if-range-tag",
        "if-range-date",
        "several-ranges",
        "if-range-beyond",
        "suffix-of-5000-digits",
    ],
)
def test_the_audio_answers_ranges_as_rfc_9110_says_and_audits_the_bytes_served(
    client: FlaskClient,
    session: Session,
    call: Recording,
    headers: dict[str, str],
    status: int,
    start: int,
    content_range: str | None,
) -> None:
    token = make_token(session, role="qa_supervisor", scope="read")

    response = client.get(
        f"/api/v1/recordings/{call.id}/audio", headers={"Authorization": f"Bearer {token}", **headers}
    )

    assert response.status_code == status and response.data == ORIGINAL[start:]
    assert response.headers.get("Content-Range") == content_range
    assert response.headers["Content-Type"].startswith("audio/") and response.headers["Content-Length"] == str(
        SIZE - start
    )
    [played] = events(session, "recording.played", call.id)
    assert played.details == {"range_start": start, "range_end": SIZE - 1, "bytes": SIZE - start, "size": SIZE}


@pytest.mark.parametrize("header", ["bytes=-0", "bytes=" + "9" * 5000 + "-"], ids=["zero-suffix", "5000-digits"])
def test_an_unsatisfiable_range_is_416_and_serves_nothing(
    client: FlaskClient, session: Session, call: Recording, header: str
) -> None:
    token = make_token(session, role="qa_supervisor", scope="read")

    response = client.get(
        f"/api/v1/recordings/{call.id}/audio", headers={"Authorization": f"Bearer {token}", "Range": header}
    )

    assert response.status_code == 416 and response.headers["Content-Range"] == f"bytes */{SIZE}"
    assert response.json is not None and response.json["error"] == "range_not_satisfiable"
    assert events(session, "recording.played", call.id) == []


@pytest.mark.parametrize("query", ["", "?download=1"], ids=["play", "download"])
def test_a_head_request_for_the_audio_is_neither_played_nor_downloaded(
    client: FlaskClient, session: Session, call: Recording, query: str
) -> None:
    """Found by exploratory testing: a HEAD was audited as playing or downloading every byte, and, filling the
    once-a-minute play window, left the GET that followed unaudited."""
    role = "compliance" if query else "qa_supervisor"  # compliance may download
    headers = {"Authorization": f"Bearer {make_token(session, role=role, scope='read')}"}
    url = f"/api/v1/recordings/{call.id}/audio{query}"

    probed = client.head(url, headers=headers)

    assert (probed.status_code, probed.data, probed.headers["Content-Length"]) == (200, b"", str(SIZE))
    action = "recording.downloaded" if query else "recording.played"
    assert events(session, action, call.id) == []
    assert client.get(url, headers=headers).status_code == 200
    assert [event.details["bytes"] for event in events(session, action, call.id)] == [SIZE]
