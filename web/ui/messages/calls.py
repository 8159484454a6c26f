"""Refusals of the call list (bulk actions, saved searches) and the call page (transcripts)."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from web.ui.message_values import Message, naming

FIELD_MESSAGES: dict[tuple[str, str], Message] = {
    ("recording_ids", "missing"): _l("Select at least one call."),
    ("recording_ids", "too_many"): _l("Select at most 500 calls at a time."),
    ("tag", "missing"): _l("Enter a tag."),
    ("tag", "too_long"): _l("A tag has at most 60 characters."),
    ("tag", "invisible_in_tag"): _l(
        "A tag is one line of visible text: remove the invisible character in it (a space of no width, a mark turning"
        " the text's direction, or a control character such as an escape)."
    ),
    ("name", "missing"): _l("Enter a name for the search."),
    ("name", "too_long"): _l("A name has at most 100 characters."),
    ("query", "too_long"): _l("This search is too long to save."),
    # Verifying a transcript segment against the audio.
    ("segment", "out_of_range"): _l("no such segment in this transcript"),
}
CODE_MESSAGES: dict[str, Message] = {
    "too_many_saved_searches": naming(
        lambda values: gettext(
            "Search not saved: you have %(num)d saved searches, the most kept. Delete one first.", num=values["max"]
        )
    ),
    # Exporting a call's evidence ZIP from its page.
    "evidence_mismatch": _l(
        "the stored audio does not match the SHA-256 recorded for it, so no evidence package was made: tell the"
        " compliance officer"
    ),
    "evidence_trail_grew": _l("the call's audit trail changed while the evidence package was made: download it again"),
    "transcription_running": _l("the recording is being transcribed now: queue it again once that has ended"),
    "transcript_rectified": _l(
        "the transcript has segments corrected on a data subject's request: transcribing the call again would undo"
        " the corrections"
    ),
    "transcript_verified": _l(
        "the transcript was verified against the audio: transcribing the call again would replace the verified text"
    ),
}
