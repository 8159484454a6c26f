"""Refusals of training: samples, nominations, clips and training sets."""

from __future__ import annotations

from flask import get_template_attribute
from flask_babel import format_decimal, gettext, ngettext
from flask_babel import lazy_gettext as _l

from recordings_service.errors import DomainError
from recordings_service.training import clip_tags, clips, nominations, sets
from recordings_service.training.eligibility import NotForTraining
from recordings_service.training.sampling import MAX_SAMPLE, MAX_SEED
from web.ui.message_values import Message, naming


def _not_for_training(exc: DomainError) -> str:
    # The reason is an exclusion the training pages already name (training/_labels.html).
    reason = exc.reason if isinstance(exc, NotForTraining) else ""
    label = get_template_attribute("training/_labels.html", "exclusion")(reason)
    return str(gettext("this call may not be used for training (%(reason)s)", reason=label))


def _clip_unavailable(exc: DomainError) -> str:
    # The clip's state as the library names it (training/_labels.html), with its reason.
    state = {"status": exc.status, "reason": exc.reason} if isinstance(exc, sets.ClipUnavailable) else {}
    label = get_template_attribute("training/_labels.html", "status")(state)
    return str(gettext("this clip cannot be added: it is %(state)s", state=label))


_too_long_after_redaction = naming(
    lambda values: ngettext(
        "%(num)d character too long once its personal data is replaced by placeholders such as [PHONE] "
        "(at most %(max)d): shorten it",
        "%(num)d characters too long once its personal data is replaced by placeholders such as [PHONE] "
        "(at most %(max)d): shorten it",
        int(values["length"]) - int(values["max"]),
        max=int(values["max"]),
    )
)
_selection_order = naming(
    lambda values: gettext("segments are numbered 0 to %(last)d, the first before the last", last=values["last"])
)
_clip_past_call = naming(
    lambda values: gettext(
        "the clip must end within the call (%(duration)s s)",
        duration=format_decimal(round(values["duration_s"], 1), format="0.0"),
    )
)

_span_past_call = naming(
    lambda values: gettext(
        "the span must be within the call (%(duration)s s)",
        duration=format_decimal(round(values["duration_s"], 1), format="0.0"),
    )
)

SAMPLE_SIZE_RANGE = _l("enter a number from %(min)d to %(max)d", min=1, max=MAX_SAMPLE)
SEED_RANGE = _l("enter a number from %(min)d to %(max)d", min=0, max=MAX_SEED)
PERCENT = _l("enter a number from 0 to 100")
SECONDS = _l("enter 0 or more seconds")
TOO_MANY = _l("too many entries")

FIELD_MESSAGES: dict[tuple[str, str], Message] = {
    # The sample's words box, as the call list's search box says it (web/ui/call_filters.py).
    ("words", "no_words"): _l("enter at least one word: letters or digits, not only punctuation or wildcards"),
    # Clips and training sets (a clip's and a set's titles have one limit, clips.MAX_TITLE).
    ("title", "missing"): _l("give it a title"),
    ("title", "too_long"): _l("at most %(num)d characters", num=clips.MAX_TITLE),
    ("tags", "too_long"): _l(
        "at most %(count)d tags of %(num)d characters", count=clip_tags.MAX_TAGS, num=clip_tags.MAX_TAG
    ),
    ("tags", "invisible_in_tag"): _l(
        "each tag is one line of visible text: remove the invisible character in it (a space of no width, a mark"
        " turning the text's direction, or a control character such as an escape, a tab or a line break)"
    ),
    ("title", "invisible_in_title"): _l(
        "a title is one line of visible text: remove the invisible character in it (a space of no width, a mark"
        " turning the text's direction, or a control character such as an escape, a tab or a line break)"
    ),
    ("notes", "too_long"): _l("at most %(num)d characters", num=clips.MAX_NOTES),
    ("end_s", "too_long"): _l("a clip is at most %(num)d s long", num=int(clips.MAX_CLIP_S)),
    ("description", "too_long"): _l("at most %(num)d characters", num=sets.MAX_DESCRIPTION),
    ("clip_ids", "too_long"): _l("a set holds at most %(num)d clips", num=sets.MAX_CLIPS),
    ("clip_ids", "duplicate"): _l("a clip appears in a set once"),
    # The sample's criteria (the model's limits, training.sampling.SampleCriteria).
    ("size", "greater_than_equal"): SAMPLE_SIZE_RANGE,
    ("size", "less_than_equal"): SAMPLE_SIZE_RANGE,
    ("seed", "greater_than_equal"): SEED_RANGE,
    ("seed", "less_than_equal"): SEED_RANGE,
    ("seed", "int_parsing_size"): SEED_RANGE,
    ("score_min", "greater_than_equal"): PERCENT,
    ("score_min", "less_than_equal"): PERCENT,
    ("score_max", "greater_than_equal"): PERCENT,
    ("score_max", "less_than_equal"): PERCENT,
    ("min_duration_s", "greater_than_equal"): SECONDS,
    ("max_duration_s", "greater_than_equal"): SECONDS,
    ("min_duration_s", "finite_number"): SECONDS,
    ("max_duration_s", "finite_number"): SECONDS,
    ("to", "range_order"): _l("'to' is before 'from'"),
    ("max_duration_s", "range_order"): _l("max_duration_s is below min_duration_s"),
    ("score_max", "range_order"): _l("score_max is below score_min"),
    ("stratify_by", "missing"): _l("choose what a stratified sample is spread across"),
    ("queues", "invalid_length"): TOO_MANY,
    ("languages", "invalid_length"): TOO_MANY,
    ("agents", "invalid_length"): TOO_MANY,
    ("exclude_agents", "invalid_length"): TOO_MANY,
    ("words", "invalid_length"): _l("too long"),
}
CODE_MESSAGES: dict[str, Message] = {
    "not_for_training": _not_for_training,
    "clip_outdated": _l("the call's redactions changed since the clip was cut: cut it again"),
    # A clip's text or a nomination's note within its limit as typed, longer once redacted.
    "too_long_after_redaction": _too_long_after_redaction,
    "nomination_note_too_long": _l("at most %(num)d characters", num=nominations.MAX_NOTE),
    "nomination_span_too_short": _l("a span is at least %(num)d s long", num=int(clips.MIN_CLIP_S)),
    "nomination_span_one_end": _l("give both ends of the span, or leave both empty"),
    "nomination_span_before_start": _l("the span must start at or after 0 s"),
    "nomination_span_ends_first": _l("the span must end after it starts"),
    "nomination_span_past_call": _span_past_call,
    "clip_not_found": _l("the clip was not found"),
    "clip_removed": _l("the clip has been removed"),
    "clip_current": _l("the clip already follows its call's current redactions: there is nothing to cut again"),
    "clip_unavailable": _clip_unavailable,
    "clip_before_start": _l("the clip must start at or after 0 s"),
    "clip_ends_first": _l("the clip must end after it starts"),
    "clip_too_short": _l("a clip is at least %(num)d s long", num=int(clips.MIN_CLIP_S)),
    "clip_past_call": _clip_past_call,
    "no_redacted_transcript": _l("the call has no redacted transcript to select from"),
    "audio_missing": _l("no clip can be cut: the call's audio is missing from storage"),
    "selection_order": _selection_order,
    "set_not_found": _l("the training set was not found"),
    "export_not_found": _l("the export was not found"),
    "nomination_not_found": _l("the nomination was not found"),
    "not_set_owner": _l("only the trainer who made a set may change it"),
    "set_changed": _l(
        "the set was changed elsewhere after this page was shown, so your change was not saved: here is the set as it "
        "is now; make the change again"
    ),
    "not_clip_author": _l("only the trainer who cut a clip may change or delete it"),
    "not_nomination_author": _l("only the supervisor who made a nomination may withdraw it"),
}
