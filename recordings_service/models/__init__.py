"""Typed SQLAlchemy models, one module per capability; importing this package registers them all."""

from recordings_service.models.account import ApiToken, RateCount, User
from recordings_service.models.assignment import Assignment, EvaluationPlan, PlanFill
from recordings_service.models.audit import AuditChainHead, AuditEvent, AuditEventRecording, AuditSigningKey
from recordings_service.models.calibration import CalibrationAnswer, CalibrationParticipant, CalibrationSession
from recordings_service.models.call_list import CallTag, SavedSearch
from recordings_service.models.evaluation import (
    Evaluation,
    EvaluationAnswer,
    EvaluationForm,
    EvaluationVersion,
    FormQuestion,
    FormSection,
)
from recordings_service.models.integrity import IntegrityCheckRun
from recordings_service.models.job_run import JobRun
from recordings_service.models.privacy import (
    DeletionReceipt,
    LegalHold,
    RetentionCheckRun,
    RetentionPolicy,
    SubjectCorrection,
    SubjectRequest,
    Tombstone,
)
from recordings_service.models.recording import Customer, DerivedVersion, Recording
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
    "Assignment",
    "AuditChainHead",
    "AuditEvent",
    "AuditEventRecording",
    "AuditSigningKey",
    "BatchItem",
    "CalibrationAnswer",
    "CalibrationParticipant",
    "CalibrationSession",
    "CallTag",
    "CustodyConfirmation",
    "Customer",
    "DeletionReceipt",
    "DerivedVersion",
    "Evaluation",
    "EvaluationAnswer",
    "EvaluationForm",
    "EvaluationPlan",
    "EvaluationVersion",
    "FormQuestion",
    "FormSection",
    "Institute",
    "IntegrityCheckRun",
    "JobRun",
    "LegalHold",
    "Nomination",
    "PlanFill",
    "RateCount",
    "Recording",
    "ResearchBatch",
    "RetentionCheckRun",
    "RetentionPolicy",
    "SavedSearch",
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
