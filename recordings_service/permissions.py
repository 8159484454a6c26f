"""The one permission table: which role may do what, and what each API-token scope allows.

Everything not granted here is denied. Object-level rules (which recordings an actor sees:
`recordings.visible_to`; a partner sees only its institute's batches; trainers get redacted material
only) live in the service functions that load the objects.
"""

from __future__ import annotations

from enum import StrEnum

from recordings_service.models.account import Role


class Permission(StrEnum):
    PUBLIC = "public"  # no login: health checks, the login page, static files
    AUTHENTICATED = "authenticated"  # any signed-in person: own profile, logout, MFA enrolment
    STATUS_VIEW = "status.view"
    RECORDING_INGEST = "recording.ingest"
    RECORDING_LIST = "recording.list"
    RECORDING_PLAY = "recording.play"
    RECORDING_PLAY_REDACTED = "recording.play_redacted"  # the audio with personal data muted
    CUSTOMER_READ = "customer.read"  # which customer a call was with (the CRM reference)
    AGENT_READ = "agent.read"  # which agent took a call (the agent ref; trainers see a pseudonym instead)
    RECORDING_DOWNLOAD = "recording.download"
    TRANSCRIPT_READ = "transcript.read"
    TRANSCRIPT_READ_REDACTED = "transcript.read_redacted"
    TRANSCRIPT_VERIFY = "transcript.verify"
    TRANSCRIPTION_REQUEUE = "transcription.requeue"
    EVIDENCE_EXPORT = "evidence.export"
    ANNOTATION_WRITE = "annotation.write"
    EVALUATION_WRITE = "evaluation.write"
    EVALUATION_READ = "evaluation.read"
    FORM_MANAGE = "form.manage"
    TRAINING_MANAGE = "training.manage"  # samples, clips and sets (redacted material only)
    TRAINING_NOMINATE = "training.nominate"  # mark a call or span as a good or bad example for trainers
    NOMINATIONS_READ = "training.nominations_read"
    USERS_MANAGE = "users.manage"
    SETTINGS_MANAGE = "settings.manage"
    AUDIT_READ = "audit.read"
    RETENTION_MANAGE = "retention.manage"
    SUBJECT_REQUESTS = "subject_requests.manage"
    RESEARCH_MANAGE = "research.manage"
    PARTNER_PORTAL = "partner.portal"
    FEEDBACK_RESPOND = "feedback.respond"  # an agent reads the evaluations released to them and answers them


P = Permission
_STAFF = {P.AUTHENTICATED, P.STATUS_VIEW}
_REVIEW = {
    P.RECORDING_LIST,
    P.RECORDING_PLAY,
    P.RECORDING_PLAY_REDACTED,
    P.CUSTOMER_READ,
    P.AGENT_READ,
    P.TRANSCRIPT_READ_REDACTED,
    P.RECORDING_DOWNLOAD,
    P.TRANSCRIPT_READ,
    P.TRANSCRIPT_VERIFY,
    P.TRANSCRIPTION_REQUEUE,
    P.EVIDENCE_EXPORT,
    P.ANNOTATION_WRITE,
    P.EVALUATION_READ,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # Admins run the system; they do not need to hear calls.
    Role.ADMIN: frozenset({*_STAFF, P.USERS_MANAGE, P.SETTINGS_MANAGE, P.FORM_MANAGE, P.TRANSCRIPTION_REQUEUE}),
    Role.COMPLIANCE: frozenset(
        {*_STAFF, *_REVIEW, P.AUDIT_READ, P.RETENTION_MANAGE, P.SUBJECT_REQUESTS, P.RESEARCH_MANAGE}
    ),
    Role.QA_SUPERVISOR: frozenset(
        {*_STAFF, *_REVIEW, P.EVALUATION_WRITE, P.FORM_MANAGE, P.TRAINING_NOMINATE, P.NOMINATIONS_READ}
    ),
    # Trainers work from redacted transcripts and clips only, never originals.
    Role.TRAINER: frozenset(
        {
            *_STAFF,
            P.RECORDING_LIST,
            P.RECORDING_PLAY_REDACTED,
            P.TRANSCRIPT_READ_REDACTED,
            P.TRAINING_MANAGE,
            P.NOMINATIONS_READ,
        }
    ),
    Role.RESEARCH_PARTNER: frozenset({P.AUTHENTICATED, P.PARTNER_PORTAL}),
    # Service accounts (the telephony system) authenticate with API tokens and may only ingest.
    Role.SERVICE: frozenset({P.RECORDING_INGEST}),
    # Agents hear and read only the calls of the evaluations released to them (`recordings.visible_to`).
    Role.AGENT: frozenset(
        {
            P.AUTHENTICATED,
            P.FEEDBACK_RESPOND,
            P.RECORDING_PLAY,
            P.RECORDING_PLAY_REDACTED,
            P.TRANSCRIPT_READ,
            P.TRANSCRIPT_READ_REDACTED,
            P.AGENT_READ,
        }
    ),
}

TOKEN_SCOPES: dict[str, frozenset[Permission]] = {
    "ingest": frozenset({P.RECORDING_INGEST}),
    "read": frozenset(
        {
            P.RECORDING_LIST,
            P.RECORDING_PLAY,
            P.RECORDING_PLAY_REDACTED,
            P.RECORDING_DOWNLOAD,
            P.CUSTOMER_READ,
            P.AGENT_READ,
            P.TRANSCRIPT_READ,
            P.TRANSCRIPT_READ_REDACTED,
        }
    ),
    "partner": frozenset({P.PARTNER_PORTAL}),
    # Compliance automation: retention, legal holds, subject requests; short-lived (tokens.MAX_LIFETIME).
    "compliance": frozenset({P.RETENTION_MANAGE, P.SUBJECT_REQUESTS}),
    # A SIEM following the audit trail: reading it, nothing else. Apart from `compliance`, whose tokens change
    # retention and holds and so live 30 days at most: a read-only poller lives as long as any other token.
    "audit": frozenset({P.AUDIT_READ}),
    # Research-batch automation (institutes, batches, approvals, confirmations); short-lived as `compliance` is.
    "research": frozenset({P.RESEARCH_MANAGE}),
    # QA automation: evaluations (score, release, resolve, list), forms (read), comments on calls; and an agent's
    # acknowledgements and disputes. With `agent.read`: an evaluation names its agent (`GET /evaluations/<id>` always
    # did), so the list and its `agent_ref` filter name them too, not by a trainer's pseudonym.
    "evaluation": frozenset(
        {P.EVALUATION_READ, P.EVALUATION_WRITE, P.ANNOTATION_WRITE, P.FEEDBACK_RESPOND, P.AGENT_READ}
    ),
    # Training-library automation: samples, clips, sets and exports (trainers), nominations (QA supervisors);
    # with the redacted audio and transcripts a trainer's call view links to, never the originals.
    "training": frozenset(
        {
            P.TRAINING_MANAGE,
            P.TRAINING_NOMINATE,
            P.NOMINATIONS_READ,
            P.RECORDING_PLAY_REDACTED,
            P.TRANSCRIPT_READ_REDACTED,
        }
    ),
}


def role_permissions(role: str) -> frozenset[Permission]:
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


def allowed(*, role: str, permission: Permission, scope: str | None = None) -> bool:
    """Does `role` (acting through a token of `scope`, when given) hold `permission`?"""
    if permission is Permission.PUBLIC:
        return True
    granted = role_permissions(role)
    if scope is not None:
        granted = granted & TOKEN_SCOPES.get(scope, frozenset())
    return permission in granted
