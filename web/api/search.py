"""Search API: calls by metadata and transcript words, with highlighted snippets and their time in the call."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel, Field, StringConstraints
from spectree import Response as SpecResponse

from recordings_service.calls import search, transcript_matches
from recordings_service.errors import Forbidden
from recordings_service.permissions import Permission, allowed
from recordings_service.recordings import MAX_PAGE, RecordingOut
from web.access import current_actor, current_can, denial, requires
from web.api import api_spec
from web.api.recordings import recording_out, refuse_identity_filters
from web.api.validation import ErrorBody, refuse_invalid
from web.database import db
from web.identities import training_rules
from web.links import call_url

bp = Blueprint("search_api", __name__, url_prefix="/api/v1")


class SearchQuery(search.SearchFilters):
    # Counted without the spaces around it, as the call list counts it.
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=transcript_matches.MAX_QUERY_CHARS)] = Field(
        default="", description="words that must all be said"
    )
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class SnippetPart(BaseModel):
    text: str
    highlighted: bool


class HitOut(BaseModel):
    segment: int
    start_s: float
    speaker: str | None
    parts: list[SnippetPart]
    url: str = Field(description="the call page, opened at this moment")


class CallOut(BaseModel):
    recording: RecordingOut
    evaluated: bool
    score: float | None
    hits: list[HitOut]


class SearchPageOut(BaseModel):
    items: list[CallOut]
    next_cursor: str | None
    snippets: bool = Field(description="false when the caller may not read transcripts: hits stay empty")


@bp.get("/search")
@requires(Permission.RECORDING_LIST)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=SearchPageOut, HTTP_422=ErrorBody), tags=["search"], before=refuse_invalid
)
def search_calls(query: SearchQuery) -> Response:
    """Calls newest first; pass `next_cursor` back as `cursor` for the next page. Snippets need transcript access;
    filtering by tag (staff's free text about calls, read as comments are) needs `evaluation.read`, by `assigned`
    `evaluation.write`."""
    refuse_identity_filters(customer_ref=query.customer_ref, agent_ref=query.agent_ref)
    # The role's right, whatever the token's scope: a QA supervisor's `read` token filters by tag as before (no
    # scope holds both `recording.list` and `evaluation.read`). Whether a call is on someone's list to evaluate is for
    # those who assign and evaluate, as on the call list.
    for given, permission, what in (
        (query.tag, Permission.EVALUATION_READ, "tag"),
        (query.assigned, Permission.EVALUATION_WRITE, "assignment"),
    ):
        if given is not None and not allowed(role=current_actor().role, permission=permission):
            refusal = denial(object_type="recording", object_id=None)
            raise Forbidden(f"filtering by {what} is not permitted to your role", refusal=refusal)
    page = search.search_calls(
        db(),
        actor=current_actor(),
        query=query.q,
        filters=search.SearchFilters.model_validate(query.model_dump(exclude={"q", "cursor", "limit"})),
        cursor=query.cursor,
        limit=query.limit,
        snippets=current_can(Permission.TRANSCRIPT_READ),
        training_rules=training_rules(),
    )
    db().commit()
    items = [
        CallOut(
            recording=recording_out(item.recording),
            evaluated=item.evaluated,
            score=item.score,
            hits=[
                HitOut(
                    segment=hit.segment,
                    start_s=hit.start_s,
                    speaker=hit.speaker,
                    parts=[SnippetPart(text=text, highlighted=marked) for text, marked in hit.parts],
                    url=call_url(item.recording.id, hit.start_s),
                )
                for hit in item.hits
            ],
        )
        for item in page.items
    ]
    body = SearchPageOut(items=items, next_cursor=page.next_cursor, snippets=page.snippets)
    return jsonify(body.model_dump(mode="json"))
