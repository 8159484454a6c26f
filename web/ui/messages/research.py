"""Refusals of research: batches, institutes, and a partner's confirmation of return or destruction."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from recordings_service.research import selection
from recordings_service.research.batches import MAX_STUDY
from recordings_service.research.confirmations import MAX_CERTIFICATE_BYTES
from recordings_service.research.institutes import MAX_CONTACT, MAX_NAME
from recordings_service.research.text import MAX_TEXT
from web.i18n import local_date
from web.ui.message_values import Message, naming

_before_package = naming(
    lambda values: gettext(
        "the package was built on %(date)s: no copy existed before", date=local_date(values["built_on"]).striptags()
    )
)

_before_last_download = naming(
    lambda values: gettext(
        "the package was last downloaded on %(date)s: its copies cannot have been returned or destroyed before",
        date=local_date(values["downloaded_on"]).striptags(),
    )
)

FIELD_MESSAGES: dict[tuple[str, str], Message] = {
    # The metadata a partner gets (a crafted form can name a field twice).
    ("metadata_fields", "duplicate"): _l("name each field once"),
    ("study", "invalid_length"): _l("1 to %(num)d characters", num=MAX_STUDY),
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
    ("contact", "invalid_length"): _l("1 to %(num)d characters", num=MAX_CONTACT),
    # The clauses' reference: "safeguard." in a new institute's form, bare where it is recorded later.
    ("safeguard.reference", "invalid_length"): _l("1 to %(num)d characters", num=MAX_NAME),
    ("reference", "invalid_length"): _l("1 to %(num)d characters", num=MAX_NAME),
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
CODE_MESSAGES: dict[str, Message] = {
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
    "not_approved": _l("only an approved batch's access can be ended"),
    "follow_up_not_found": _l("the follow-up request was not found"),
    "package_outdated": _l(
        "a call was withdrawn from the batch after its package was built: the package is being built again without "
        "it; download it once it is ready"
    ),
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
    "before_last_download": _before_last_download,
    "not_confirmable": _l("there is nothing of this batch to return or destroy now"),
    "confirmation_pending": _l("a confirmation of this batch is waiting for compliance's decision already"),
    "not_pdf": _l("the certificate must be a PDF document"),
    "certificate_not_found": _l("the confirmation has no certificate"),
}
