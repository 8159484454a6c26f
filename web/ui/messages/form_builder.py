"""The evaluation-form builder's refusals in the reader's language, by their `why`: each names the section and
question as the builder numbers its rows (from 1), since the message sits above the whole form."""

from __future__ import annotations

from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l

from web.ui.message_values import Message, naming

CODE_MESSAGES: dict[str, Message] = {
    "form_published": naming(
        lambda values: gettext("Version %(version)s of this form is published already.", **values)
    ),
    "form_name_missing": _l("a form needs a name"),
    "form_name_too_long": _l("a form's name has at most 200 characters"),
    "form_without_sections": _l("a form needs at least one section"),
    "section_title_missing": naming(lambda values: gettext("Section %(section)d: a section needs a title", **values)),
    "section_title_too_long": naming(
        lambda values: gettext("Section %(section)d: a title has at most 200 characters", **values)
    ),
    "section_without_questions": naming(
        lambda values: gettext("Section %(section)d: a section needs at least one question", **values)
    ),
    "question_text_missing": naming(
        lambda values: gettext("Section %(section)d, question %(question)d: a question needs its text", **values)
    ),
    "question_text_too_long": naming(
        lambda values: gettext(
            "Section %(section)d, question %(question)d: a question has at most 500 characters", **values
        )
    ),
    "question_weight": naming(
        lambda values: gettext(
            "Section %(section)d, question %(question)d: a weight is above 0 and at most %(max)s (a number)",
            section=values["section"],
            question=values["question"],
            max=format_decimal(values["max"]),
        )
    ),
    "question_answer_type": naming(
        lambda values: gettext("Section %(section)d, question %(question)d: choose a kind of answer", **values)
    ),
}
