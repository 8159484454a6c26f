"""What a page says when a use case refuses: the domain error's message in the reader's language.

The services raise their errors in English and may name API fields (`recording_id`, `score_max`). A page shows
the message kept here for the error's field and code (or for its code alone, where the code means one thing
whatever the field), and the service's own message for any other: a new error reads in English until it is
listed here. An error's `why` (`request_answered`), where it has one, is looked up first, the same two ways: it
names one refusal where the API's code stays generic (`conflict`). An error a view raised itself is already in
the reader's language and is shown as it is.
"""

from __future__ import annotations

from flask import flash, get_template_attribute
from flask_babel import format_decimal, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from recordings_service import accounts
from recordings_service.customers import MAX_REF
from recordings_service.errors import DomainError, Invalid
from recordings_service.evaluations import plans
from recordings_service.evaluations.scoring import MAX_COMMENT_CHARS
from recordings_service.models.privacy import PeriodUnit
from recordings_service.privacy import subjects
from recordings_service.privacy.rectification import MAX_SEGMENT_TEXT
from recordings_service.privacy.retention import MAX_BASIS, MAX_KEEP
from recordings_service.research import selection
from recordings_service.research.confirmations import MAX_CERTIFICATE_BYTES
from recordings_service.research.institutes import MAX_NAME
from recordings_service.research.text import MAX_TEXT
from recordings_service.training import clips, nominations, sets
from recordings_service.training.eligibility import NotForTraining
from recordings_service.training.sampling import MAX_SAMPLE, MAX_SEED
from web.i18n import RULE_LABELS, form_text, local_date
from web.ui.form_builder_messages import FORM_BUILDER_MESSAGES
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


def _period(keep: int, unit: str) -> str:
    if unit == PeriodUnit.DAYS:
        return str(ngettext("%(num)d day", "%(num)d days", keep))
    return str(ngettext("%(num)d month", "%(num)d months", keep))


_before_package = naming(
    lambda values: gettext(
        "the package was built on %(date)s: no copy existed before", date=local_date(values["built_on"]).striptags()
    )
)
_below_policies = naming(
    lambda values: gettext(
        "the global maximum cannot be shorter than the period of these policies: %(rules)s",
        rules=", ".join(str(RULE_LABELS.get(rule, rule)) for rule in values["rules"]),
    )
)
_over_maximum = naming(
    lambda values: gettext(
        "the period exceeds the global maximum of %(period)s", period=_period(values["keep"], values["unit"])
    )
)
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
_segment_number = naming(lambda values: gettext("a segment number from 0 to %(last)d, once", last=values["last"]))
_selection_order = naming(
    lambda values: gettext("segments are numbered 0 to %(last)d, the first before the last", last=values["last"])
)
_clip_past_call = naming(
    lambda values: gettext(
        "the clip must end within the call (%(duration)s s)",
        duration=format_decimal(round(values["duration_s"], 1), format="0.0"),
    )
)

_case_variant = naming(
    lambda values: ngettext(
        "no customer has exactly this reference, but %(refs)s differs from it only in letter case: type the "
        "reference as recorded",
        "no customer has exactly this reference, but %(refs)s differ from it only in letter case: type the "
        "reference as recorded",
        len(values["matches"]),
        refs=", ".join(values["matches"]),
    )
)
_answer_required = naming(
    lambda values: gettext("answer required: %(question)s", question=form_text(values["question"]))
)
_answer_choice = naming(
    lambda values: gettext("choose one of the answers offered: %(question)s", question=form_text(values["question"]))
)


def _evidence_moment(exc: DomainError) -> str:
    if "duration_s" not in exc.values:
        return str(gettext("enter a moment of the call in seconds"))
    seconds = format_decimal(round(exc.values["duration_s"], 1), format="0.0")
    return str(gettext("enter a moment of the call, 0 to %(duration)s seconds", duration=seconds))


SAMPLE_SIZE_RANGE = _l("enter a number from %(min)d to %(max)d", min=1, max=MAX_SAMPLE)
SEED_RANGE = _l("enter a number from %(min)d to %(max)d", min=0, max=MAX_SEED)
PERCENT = _l("enter a number from 0 to 100")
SECONDS = _l("enter 0 or more seconds")
TOO_MANY = _l("too many entries")
PAGE_LINK_BROKEN = _l(
    "This link to a further page of the list is not valid (mistyped or out of date): start again from the first page."
)

# By (field, code).
FIELD_MESSAGES: dict[tuple[str, str], Message] = {
    # The call list's bulk actions and saved searches.
    ("recording_ids", "missing"): _l("Select at least one call."),
    ("recording_ids", "too_many"): _l("Select at most 500 calls at a time."),
    ("tag", "missing"): _l("Enter a tag."),
    ("tag", "too_long"): _l("A tag has at most 60 characters."),
    ("name", "missing"): _l("Enter a name for the search."),
    ("name", "too_long"): _l("A name has at most 100 characters."),
    ("query", "too_long"): _l("This search is too long to save."),
    ("assignee_id", "unknown_user"): _l("Choose a supervisor from the list."),
    ("assignee_id", "not_evaluator"): _l("That person cannot evaluate calls."),
    ("due", "due_passed"): _l("the due date has passed: choose today or a later day"),
    ("due", "due_too_far"): _l("a due date is at most a year ahead"),
    # Evaluation plans; a seed is drawn when the field is left empty.
    ("calls_per_agent", "out_of_range"): _l(
        "enter a number from %(min)d to %(max)d", min=1, max=plans.MAX_CALLS_PER_AGENT
    ),
    ("seed", "out_of_range"): _l("the seed is too large: use at most 18 digits, or leave it empty to draw one"),
    ("queue", "missing"): _l("name a queue or an agent"),
    ("supervisor_ids", "missing"): _l("choose at least one supervisor"),
    # Feedback: an agent's answer to an evaluation, and the resolution of a dispute.
    ("comment", "required"): _l("say what you dispute, and why"),
    ("comment", "too_long"): _l("at most %(num)d characters", num=MAX_COMMENT_CHARS),
    ("note", "required"): _l("say how the dispute was resolved"),
    # Verifying a transcript segment against the audio (the call page).
    ("segment", "out_of_range"): _l("no such segment in this transcript"),
    # A list's link to its next page, edited or kept from an older version of the list (the audit trail's `before`).
    ("cursor", "invalid_cursor"): PAGE_LINK_BROKEN,
    ("before", "invalid_cursor"): PAGE_LINK_BROKEN,
    # Research batches: the metadata a partner gets (a crafted form can name a field twice).
    ("metadata_fields", "duplicate"): _l("name each field once"),
    # Retention policies and legal holds.
    ("unit", "invalid_choice"): _l("choose days or months"),
    ("keep", "out_of_range"): _l(
        "between 1 and %(days)d days, or 1 and %(months)d months",
        days=MAX_KEEP[PeriodUnit.DAYS],
        months=MAX_KEEP[PeriodUnit.MONTHS],
    ),
    ("basis", "missing"): _l("state the basis of the period (law, contract or legitimate interest)"),
    ("basis", "invalid_length"): _l("at most %(num)d characters", num=MAX_BASIS),
    ("recording_id", "one_target"): _l("give either a recording id or a customer reference"),
    ("customer_ref", "invalid_length"): _l("a customer reference of 1 to %(num)d characters", num=MAX_REF),
    ("customer_ref", "case_variant"): _case_variant,
    # A hold's and a request's reasons have one limit (privacy.holds and privacy.subjects).
    ("reason", "missing"): _l("state the reason"),
    ("reason", "invalid_length"): _l("at most %(num)d characters", num=subjects.MAX_REASON),
    # Data-subject requests.
    ("kind", "invalid_choice"): _l("choose one of the kinds of request"),
    ("received_at", "in_future"): _l("a request cannot be received in the future"),
    ("received_at", "out_of_range"): _l("GDPR requests date from 25 May 2018 on"),
    ("months", "out_of_range"): _l("extend by 1 or %(num)d months", num=subjects.MAX_EXTENSION_MONTHS),
    ("research", "missing"): _l("say whether the customer objects to research, marketing, or both"),
    ("metadata", "missing"): _l("give metadata or transcript corrections"),
    ("recording_id", "missing"): _l("name the call to correct"),
    ("recording_id", "other_customer"): _l("not a call of this request's customer"),
    # The metadata the rectification form corrects (privacy.rectification.RECTIFIABLE).
    ("metadata.language", "invalid"): _l("a language code such as fi, sv or en"),
    ("metadata.queue", "invalid"): _l("text of 1 to %(num)d characters", num=100),
    # Clips and training sets (a clip's and a set's titles have one limit, clips.MAX_TITLE).
    ("title", "missing"): _l("give it a title"),
    ("title", "too_long"): _l("at most %(num)d characters", num=clips.MAX_TITLE),
    ("tags", "too_long"): _l("at most %(count)d tags of %(num)d characters", count=clips.MAX_TAGS, num=clips.MAX_TAG),
    ("notes", "too_long"): _l("at most %(num)d characters", num=clips.MAX_NOTES),
    ("end_s", "too_long"): _l("a clip is at most %(num)d s long", num=int(clips.MAX_CLIP_S)),
    ("description", "too_long"): _l("at most %(num)d characters", num=sets.MAX_DESCRIPTION),
    ("clip_ids", "too_long"): _l("a set holds at most %(num)d clips", num=sets.MAX_CLIPS),
    ("clip_ids", "duplicate"): _l("a clip appears in a set once"),
    # The training sample's criteria (the model's limits, training.sampling.SampleCriteria).
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
    # Research batches and institutes.
    ("study", "invalid_length"): _l("1 to %(num)d characters", num=MAX_TEXT),
    ("purpose", "invalid_length"): _l("1 to %(num)d characters", num=MAX_TEXT),
    ("name", "invalid_length"): _l("1 to %(num)d characters", num=MAX_NAME),
    ("agreement_ref", "invalid_length"): _l("1 to %(num)d characters", num=MAX_NAME),
    ("reason", "blank"): _l("state the reason"),
    ("sample_size", "greater_than_equal"): _l(
        "enter a number from %(min)d to %(max)d", min=1, max=selection.MAX_SAMPLE
    ),
    ("sample_size", "less_than_equal"): _l("enter a number from %(min)d to %(max)d", min=1, max=selection.MAX_SAMPLE),
    ("country", "invalid_choice"): _l("not an ISO 3166 country code: give two letters, such as FI, SE or GB"),
    ("contact", "invalid_email"): _l("give an e-mail address"),
    # A partner's confirmation of return or destruction (research.confirmations: 200 characters for a name).
    ("method", "invalid_choice"): _l("choose returned or destroyed"),
    ("signer", "blank"): _l("give the signer's name"),
    ("signer", "invalid_length"): _l("1 to %(num)d characters", num=200),
    ("title", "blank"): _l("give the signer's title"),
    ("title", "invalid_length"): _l("1 to %(num)d characters", num=200),
    ("statement", "blank"): _l("say how and where the copies were returned or destroyed"),
    ("statement", "invalid_length"): _l("1 to %(num)d characters", num=MAX_TEXT),
    ("certificate", "too_large"): _l("at most %(num)d MB", num=MAX_CERTIFICATE_BYTES // (1024 * 1024)),
}
# By code alone: input the model could not read, and refusals whose code says it all.
CODE_MESSAGES: dict[str, Message] = {
    "int_parsing": _l("enter a whole number"),
    "invalid_character": _l("remove the NUL character (U+0000): text cannot hold it"),
    "int_parsing_size": _l("enter a smaller number"),
    "float_parsing": _l("enter a number"),
    "finite_number": _l("enter a number"),
    "invalid_date": _l("use a date such as 2025-01-31"),
    "invalid_choice": _l("choose one of the options offered"),
    "not_for_training": _not_for_training,
    "clip_outdated": _l("the call's redactions changed since the clip was cut: cut it again"),
    # A clip's text or a nomination's note within its limit as typed, longer once redacted.
    "too_long_after_redaction": _too_long_after_redaction,
    # Data-subject requests.
    "request_not_found": _l("the request was not found"),
    "request_answered": _l("the request has been answered already"),
    "request_extended": _l("the deadline has been extended once already; it can be extended only once"),
    "request_overdue": _l("the request is overdue: an extension is decided within the first month"),
    "not_restricting": _l("this request is not a restriction in force"),
    "other_kind": _l("this does not apply to a request of this kind"),
    "package_queued": _l("the access package is queued for building already"),
    "package_building": _l("the access package is being built already"),
    "package_ready": _l("the access package is ready already"),
    "package_expired": _l("the access package was built already and has expired"),
    "package_withdrawn": _l("the access package was withdrawn when the customer's recordings were erased"),
    "package_unavailable": _l("the access package is not available"),
    "no_transcript": _l("the call has no transcript to correct"),
    "segment_number": _segment_number,
    "segment_text": _l("the corrected text, 1 to %(num)d characters", num=MAX_SEGMENT_TEXT),
    "not_correctable": _l("only a call's language, direction, notice, agreement and queue can be corrected"),
    # Retention policies.
    "policy_not_found": _l("the retention policy was not found"),
    "below_policies": _below_policies,
    "over_maximum": _over_maximum,
    # Legal holds and deletion.
    "hold_not_found": _l("the legal hold was not found"),
    "hold_released": _l("the legal hold was released already"),
    "recording_not_found": _l("no call with this id was found"),
    "recording_deleted": _l("the call has been deleted already"),
    "on_legal_hold": _l("the call is on legal hold"),
    # Scoring a call (the panel beside the player, calibration sessions).
    "answer_required": _answer_required,
    "answer_choice": _answer_choice,
    "not_on_form": _l("this question is not on the form"),
    "evidence_moment": _evidence_moment,
    "comment_too_long": _l("at most %(num)d characters", num=MAX_COMMENT_CHARS),
    # Feedback to agents.
    "not_submitted": _l("submit the evaluation before releasing it"),
    "already_released": _l("this evaluation has been released already"),
    "already_answered": _l("this evaluation has been answered already"),
    "no_open_dispute": _l("this evaluation has no open dispute"),
    "resolution_too_long": _l("at most %(num)d characters", num=MAX_COMMENT_CHARS),
    "no_plan_evaluator": _l("none of the plan's supervisors can evaluate calls now: choose others"),
    "nomination_note_too_long": _l("at most %(num)d characters", num=nominations.MAX_NOTE),
    # Clips, sets and nominations.
    "clip_not_found": _l("the clip was not found"),
    "clip_removed": _l("the clip has been removed"),
    **FORM_BUILDER_MESSAGES,
    "transcription_running": _l("the recording is being transcribed now: queue it again once that has ended"),
    "clip_current": _l("the clip already follows its call's current redactions: there is nothing to cut again"),
    "clip_unavailable": _clip_unavailable,
    "clip_before_start": _l("the clip must start at or after 0 s"),
    "clip_ends_first": _l("the clip must end after it starts"),
    "clip_too_short": _l("a clip is at least %(num)d s long", num=int(clips.MIN_CLIP_S)),
    "clip_past_call": _clip_past_call,
    "no_redacted_transcript": _l("the call has no redacted transcript to select from"),
    "selection_order": _selection_order,
    "set_not_found": _l("the training set was not found"),
    "export_not_found": _l("the export was not found"),
    "nomination_not_found": _l("the nomination was not found"),
    "not_set_owner": _l("only the trainer who made a set may change it"),
    "not_clip_author": _l("only the trainer who cut a clip may change or delete it"),
    "not_nomination_author": _l("only the supervisor who made a nomination may withdraw it"),
    # Research batches and institutes.
    "batch_not_found": _l("the research batch was not found"),
    "institute_not_found": _l("choose an institute from the list"),
    "institute_exists": _l("an institute of this name is registered already"),
    "four_eyes": _l("four-eyes rule: the batch's creator cannot approve it; a second compliance user must"),
    "no_safeguard": _l(
        "the institute is outside the EU/EEA and has no transfer safeguard: record standard contractual clauses "
        "(reference and date), or an adequacy decision for its country"
    ),
    "batch_empty": _l("the batch selected no calls; create another with wider criteria"),
    "not_draft": _l("only a draft batch can be approved or rejected"),
    "build_not_failed": _l("only a build that failed can be retried"),
    "none_pending": _l("no confirmation of this batch is waiting for a decision"),
    "window_order": _l("the access window ends before it starts"),
    "window_over": _l("the access window is already over"),
    "study_before_window": _l("the study cannot end before the access window does"),
    "study_too_long": _l("the study must end within ten years"),
    "in_eea": _l("the country is in the EU/EEA: no transfer safeguard applies"),
    "no_adequacy": _l(
        "the Commission has no adequacy decision for this country: standard contractual clauses are needed"
    ),
    "scc_incomplete": _l("standard contractual clauses need their reference and date"),
    "agreement_in_future": _l("an agreement signed in the future is not in force"),
    "safeguard_in_future": _l("a safeguard signed in the future is not in force"),
    "custody_in_future": _l("the return or destruction cannot be in the future"),
    "before_package": _before_package,
    "not_confirmable": _l("there is nothing of this batch to return or destroy now"),
    "confirmation_pending": _l("a confirmation of this batch is waiting for compliance's decision already"),
    "not_pdf": _l("the certificate must be a PDF document"),
    "certificate_not_found": _l("the confirmation has no certificate"),
    # Accounts, enrolment and passwords.
    "password_too_short": _l("a password has at least %(num)d characters", num=accounts.MIN_PASSWORD),
    "password_too_long": _l("a password has at most %(num)d characters", num=accounts.MAX_PASSWORD),
    "username_format": _l("use 1–64 letters a–z, digits, '.', '-' or '_'"),
    "username_taken": _l("an account of this username exists already"),
    "agent_ref_not_agent": _l("only an agent account has an agent ref"),
    "agent_ref_missing": _l("an agent account needs the agent ref its calls carry (1–100 characters)"),
    "agent_ref_taken": _l("another account has this agent ref already"),
    "lead_not_supervisor": _l("a lead is an active QA supervisor"),
    "lead_self": _l("nobody leads themselves"),
    "institute_not_partner": _l("only a research partner belongs to an institute"),
    "institute_missing": _l("a research partner must belong to an institute: choose it"),
    "user_not_found": _l("the account was not found"),
    "last_admin": _l("the last active administrator cannot be disabled: make another one first"),
    "service_tokens_only": _l("service accounts sign in with API tokens only"),
    "service_no_second_factor": _l("service accounts have no second factor"),
    "role_switch_service": _l("create a separate account to switch between a person and a service"),
    "role_switch_partner": _l("create a separate account to switch between staff and a research partner"),
    "role_switch_agent": _l("create a separate account to switch between staff and an agent"),
    "own_account_disable": _l("you cannot disable your own account"),
    "own_account_password": _l("you cannot reset the password of your own account"),
    "own_account_role": _l("you cannot change the role of your own account"),
    "own_second_factor": _l("you cannot reset your own second factor; another admin must"),
    "account_disabled": _l("enable the account first"),
    "enrolment_link_unknown": _l("this enrolment link is unknown, used or expired; ask an admin for a new one"),
    "enrolment_other_account": _l("only the account holder may use this link; sign out first"),
}


def error_message(exc: DomainError) -> str:
    """The error as the page says it, in the reader's language; the service's message for one not listed."""
    listed = listed_message(exc)
    return exc.message if listed is None else listed


def listed_message(exc: DomainError) -> str | None:
    """The error in the reader's language, where it is listed here; else None."""
    field = exc.field if isinstance(exc, Invalid) else None
    for code in (exc.why, exc.code):
        if code is None:
            continue
        message = FIELD_MESSAGES.get((field, code)) if field is not None else None
        if message is None:
            message = CODE_MESSAGES.get(code)
        if message is not None:
            return str(message) if isinstance(message, LazyString) else message(exc)
    return None


def flash_error(exc: DomainError) -> None:
    flash(error_message(exc), "error")
