"""Typed SQLAlchemy models, one module per capability; importing this package registers them all."""

from recordings_service.models.account import ApiToken, User
from recordings_service.models.audit import AuditChainHead, AuditEvent
from recordings_service.models.evaluation import Evaluation, EvaluationAnswer, EvaluationForm, FormQuestion, FormSection
from recordings_service.models.privacy import (
    DeletionReceipt,
    LegalHold,
    RetentionCheckRun,
    RetentionPolicy,
    SubjectCorrection,
    SubjectRequest,
    Tombstone,
)
from recordings_service.models.recording import Customer, Recording
from recordings_service.models.review import Annotation, SegmentVerification
from recordings_service.models.transcription import Transcript, TranscriptionJob

__all__ = [
    "Annotation",
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "Customer",
    "DeletionReceipt",
    "Evaluation",
    "EvaluationAnswer",
    "EvaluationForm",
    "FormQuestion",
    "FormSection",
    "LegalHold",
    "Recording",
    "RetentionCheckRun",
    "RetentionPolicy",
    "SegmentVerification",
    "SubjectCorrection",
    "SubjectRequest",
    "Tombstone",
    "Transcript",
    "TranscriptionJob",
    "User",
]
