"""Refusals of accounts, enrolment and passwords."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from recordings_service import account_names, password_policy
from web.ui.message_values import Message

FIELD_MESSAGES: dict[tuple[str, str], Message] = {
    ("display_name", "too_long"): _l("at most %(num)d characters", num=account_names.MAX_DISPLAY_NAME),
    ("display_name", "invalid_character"): _l(
        "a name is one line of visible text: remove its line breaks, tabs and control characters"
    ),
}
CODE_MESSAGES: dict[str, Message] = {
    "password_too_short": _l("a password has at least %(num)d characters", num=password_policy.MIN_PASSWORD),
    "password_too_long": _l("a password has at most %(num)d characters", num=password_policy.MAX_PASSWORD),
    "password_guessable": _l(
        "this password is too easily guessed (a common password, word or name, a keyboard pattern, repeats, a date, "
        "or the account's own name): use a longer phrase of unrelated words"
    ),
    "username_format": _l("use 1–64 letters a–z, digits, '.', '-' or '_'"),
    "username_taken": _l("an account of this username exists already"),
    "username_reserved": _l("the audit trail's name of a job or the CLI: choose another"),
    "agent_ref_not_agent": _l("only an agent account has an agent ref"),
    "agent_ref_missing": _l("an agent account needs the agent ref its calls carry (1–100 characters)"),
    "agent_ref_taken": _l("another account has this agent ref already"),
    "lead_not_supervisor": _l("a lead is an active QA supervisor"),
    "lead_self": _l("nobody leads themselves"),
    "institute_not_partner": _l("only a research partner belongs to an institute"),
    "institute_missing": _l("a research partner must belong to an institute: choose it"),
    "user_not_found": _l("the account was not found"),
    "last_admin": _l("the last active administrator cannot be disabled: make another one first"),
    "last_admin_role": _l("the last active administrator cannot be given another role: make another one first"),
    "service_tokens_only": _l("service accounts sign in with API tokens only"),
    "service_no_second_factor": _l("service accounts have no second factor"),
    "role_switch_service": _l("create a separate account to switch between a person and a service"),
    "role_switch_partner": _l("create a separate account to switch between staff and a research partner"),
    "role_switch_agent": _l("create a separate account to switch between staff and an agent"),
    "own_account_disable": _l("you cannot disable your own account"),
    "own_account_password": _l("you cannot reset the password of your own account"),
    "own_account_role": _l("you cannot change the role of your own account"),
    "own_second_factor": _l("you cannot reset your own second factor; another admin must"),
    "second_reset_mfa": _l(
        "you reset this account's password and its holder has not set a new one: another admin must reset its second"
        " factor"
    ),
    "second_reset_password": _l(
        "you reset this account's second factor and its holder has not enrolled again: another admin must reset its"
        " password"
    ),
    "account_disabled": _l("enable the account first"),
    "second_factor_unreadable": _l(
        "this account's two-factor sign-in is sealed under a master key the service no longer holds: reset its"
        " two-factor sign-in first, then enable the account"
    ),
    "enrolment_link_unknown": _l("this enrolment link is unknown, used or expired; ask an admin for a new one"),
    "enrolment_other_account": _l("only the account holder may use this link; sign out first"),
}
