"""`GET /api/v1/withheld`: the calls withheld from everyday use or given back to it, for a sync job's copy."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response as SpecResponse

from recordings_service import recordings
from recordings_service.permissions import Permission
from recordings_service.privacy.withheld_feed import WithheldWindow, browse_withheld
from recordings_service.recordings import IsoDatetime
from web.access import current_actor, requires
from web.api import api_spec
from web.api.validation import ErrorBody, refuse_invalid
from web.database import db

bp = Blueprint("withheld_api", __name__, url_prefix="/api/v1")


class WithheldOut(BaseModel):
    """A call withheld from everyday use, or given back to it: its id, which, and when; nothing else (no reason)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    withheld: bool = Field(
        description="true: the call is for compliance only now (stop using the copy; remove it); false: it is in "
        "everyday use again (read it again as any call)"
    )
    changed_at: IsoDatetime = Field(description="what changed_from and changed_to compare")


class WithheldPageOut(BaseModel):
    items: list[WithheldOut]
    next_cursor: str | None


class WithheldQuery(WithheldWindow):
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=recordings.MAX_PAGE)


@bp.get("/withheld")
@requires(Permission.RECORDING_LIST)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=WithheldPageOut, HTTP_422=ErrorBody), tags=["recordings"], before=refuse_invalid
)
def list_withheld(query: WithheldQuery) -> Response:
    """Calls withheld from everyday use (a customer's restriction of processing, or their erasure keeping the call
    for a legal duty) or given back to it (the restriction lifted), oldest change first, each as it stands now: what
    a sync job applies to its copy, made while the calls were in use. Pass `next_cursor` back as `cursor`."""
    page = browse_withheld(
        db(),
        actor=current_actor(),
        window=WithheldWindow.model_validate(query.model_dump(exclude={"cursor", "limit"})),
        cursor=query.cursor,
        limit=query.limit,
    )
    db().commit()
    items = [WithheldOut.model_validate(item) for item in page.items]
    body = WithheldPageOut(items=items, next_cursor=page.next_cursor)
    return jsonify(body.model_dump(mode="json"))
