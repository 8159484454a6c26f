"""Typed SQLAlchemy models, one module per capability; importing this package registers them all."""

from recordings_service.models.account import ApiToken, User
from recordings_service.models.audit import AuditChainHead, AuditEvent
from recordings_service.models.evaluation import Evaluation, EvaluationAnswer, EvaluationForm, FormQuestion, FormSection
from recordings_service.models.recording import Customer, Recording
from recordings_service.models.review import Annotation, SegmentVerification
from recordings_service.models.transcription import Transcript, TranscriptionJob

__all__ = [
    "Annotation",
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "Customer",
    "Evaluation",
    "EvaluationAnswer",
    "EvaluationForm",
    "FormQuestion",
    "FormSection",
    "Recording",
    "SegmentVerification",
    "Transcript",
    "TranscriptionJob",
    "User",
]
