"""The agent's answer to an evaluation's version (acknowledged or disputed, and the dispute's resolution), as the
version keeps it once the evaluation is re-scored: the re-score puts the new version before the agent and clears
their answer from the evaluation, and a dispute and its resolution note were then gone from the record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from recordings_service.models import Evaluation


def agent_answer(evaluation: Evaluation) -> dict[str, Any] | None:
    """The agent's answer to the evaluation's current version and its resolution; None where they gave none."""
    if evaluation.agent_response is None:
        return None
    return {
        "response": evaluation.agent_response,
        "comment": evaluation.agent_comment,
        "responded_at": _iso(evaluation.responded_at),
        "dispute_state": evaluation.dispute_state,
        "resolution_note": evaluation.resolution_note,
        "resolved_by": evaluation.resolved_by,
        "resolved_at": _iso(evaluation.resolved_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
