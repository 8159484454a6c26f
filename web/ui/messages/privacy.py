"""Refusals of retention policies, legal holds and deletion, and data-subject requests."""

from __future__ import annotations

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from recordings_service.customers import MAX_REF
from recordings_service.models.privacy import PeriodUnit
from recordings_service.privacy import subjects
from recordings_service.privacy.rectification import MAX_SEGMENT_TEXT
from recordings_service.privacy.retention import MAX_BASIS, MAX_KEEP
from web.i18n import RULE_LABELS
from web.ui.message_values import Message, naming


def _period(keep: int, unit: str) -> str:
    if unit == PeriodUnit.DAYS:
        return str(ngettext("%(num)d day", "%(num)d days", keep))
    return str(ngettext("%(num)d month", "%(num)d months", keep))


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
_segment_number = naming(lambda values: gettext("a segment number from 0 to %(last)d, once", last=values["last"]))
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

FIELD_MESSAGES: dict[tuple[str, str], Message] = {
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
    ("customer_ref", "invalid_character"): _l(
        "a customer reference is one line of visible text: remove the invisible character copied with it (a space "
        "of no width, a line break, a tab)"
    ),
    ("customer_ref", "unknown_customer"): _l(
        "no customer has this reference: check it, or tick that the hold is for a customer not known yet"
    ),
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
}
CODE_MESSAGES: dict[str, Message] = {
    # Data-subject requests.
    "request_not_found": _l("the request was not found"),
    "request_answered": _l("the request has been answered already"),
    "request_registered": naming(
        lambda values: gettext("this request is registered already, as request %(id)s", id=values["request_id"])
    ),
    "request_extended": _l("the deadline has been extended once already; it can be extended only once"),
    "request_overdue": _l("the request is overdue: an extension is decided within the first month"),
    "request_closed": _l("the request is closed already"),
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
}
