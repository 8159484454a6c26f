"""The partner API's request shapes of its own (web/api/research_shapes.py holds those shared with compliance)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from recordings_service.research import batches


class PartnerBatchesQuery(BaseModel):
    """A page of the institute's batches: `cursor` is the `next_cursor` of the page before. Any other parameter
    is 422 `unknown_field` naming it."""

    model_config = ConfigDict(extra="forbid")

    cursor: str | None = None
    limit: int = Field(default=batches.MAX_PAGE, ge=1, le=batches.MAX_PAGE)
