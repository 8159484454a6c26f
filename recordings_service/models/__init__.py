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
from recordings_service.models.research import BatchItem, CustodyConfirmation, Institute, ResearchBatch
from recordings_service.models.review import Annotation, SegmentVerification
from recordings_service.models.training import (
    Nomination,
    TrainingClip,
    TrainingExport,
    TrainingSecret,
    TrainingSet,
    TrainingSetItem,
)
from recordings_service.models.transcription import Transcript, TranscriptionJob

__all__ = [
    "Annotation",
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "BatchItem",
    "CustodyConfirmation",
    "Customer",
    "DeletionReceipt",
    "Evaluation",
    "EvaluationAnswer",
    "EvaluationForm",
    "FormQuestion",
    "FormSection",
    "Institute",
    "LegalHold",
    "Nomination",
    "Recording",
    "ResearchBatch",
    "RetentionCheckRun",
    "RetentionPolicy",
    "SegmentVerification",
    "SubjectCorrection",
    "SubjectRequest",
    "Tombstone",
    "TrainingClip",
    "TrainingExport",
    "TrainingSecret",
    "TrainingSet",
    "TrainingSetItem",
    "Transcript",
    "TranscriptionJob",
    "User",
]
