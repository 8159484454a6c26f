"""The research API's query shapes (web/api/research_shapes.py holds its bodies and answers): every one refuses a
parameter it does not know, 422 `unknown_field` naming it, so `?status=closed` is not answered unfiltered as if
it had filtered (a list that takes none reads `validation.NoQuery`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from recordings_service.models.research import BatchState
from recordings_service.research import batches


class BatchesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: BatchState | None = None
    institute_id: str | None = None
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=batches.MAX_PAGE)
