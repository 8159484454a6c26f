"""What is written about a scored call and shown to its agent (an evaluation's comments, the agent's dispute, a
resolution's note): text in lines, held to the rule all free text is (`recordings_service.written_text`), its length
counted as it is kept. An escape, U+0001 or a bidi override was stored as typed and shown on the agent's feedback.

A draft saved again and a re-score send the evaluation's comments back: each as stored (one written before these
checks included) is taken as it is."""

from __future__ import annotations

from collections.abc import Mapping

from recordings_service.errors import Invalid
from recordings_service.models import Evaluation
from recordings_service.written_text import refuse_controls_in_text

MAX_COMMENT_CHARS = 4000


def check_comment(field: str, text: str, *, why: str = "comment_too_long", kept: str | None = None) -> None:
    """`Invalid` naming `field` where `text`, as kept, is over `MAX_COMMENT_CHARS` (with `why`) or holds a control
    character other than a line break or a tab, or a bidi control, unless it is `kept`."""
    if len(text.strip()) > MAX_COMMENT_CHARS:
        raise Invalid(field, f"at most {MAX_COMMENT_CHARS} characters", why=why)
    refuse_controls_in_text(field, text, what="a comment", kept=kept)


def check_comments(evaluation: Evaluation, comment: str, comments: Mapping[str, str]) -> None:
    """The overall `comment` and those by question id (`comments`, whose length the answers' check counts) about to
    replace `evaluation`'s own."""
    check_comment("comment", comment, kept=evaluation.comment)
    stored = {answer.question_id: answer.comment for answer in evaluation.answers}
    for question_id, text in comments.items():
        refuse_controls_in_text(f"comments.{question_id}", text, what="a comment", kept=stored.get(question_id))
