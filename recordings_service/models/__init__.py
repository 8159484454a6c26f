"""Typed SQLAlchemy models, one module per capability; importing this package registers them all."""

from recordings_service.models.account import ApiToken, User
from recordings_service.models.audit import AuditChainHead, AuditEvent
from recordings_service.models.recording import Customer, Recording
from recordings_service.models.transcription import Transcript, TranscriptionJob

__all__ = [
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "Customer",
    "Recording",
    "Transcript",
    "TranscriptionJob",
    "User",
]
