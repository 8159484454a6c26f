"""The training API's request and response shapes: nothing in them can carry a customer ref, an agent ref (unless
the settings show agents) or original transcript text."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from recordings_service.models import TrainingExport, TrainingSet
from recordings_service.models.training import NominationKind
from recordings_service.recordings import EntityId, IsoDatetime
from recordings_service.training import clip_tags, clips, nominations, sets
from recordings_service.training.call_view import TrainingCall
from recordings_service.training.clip_views import ClipStatus, ClipView
from recordings_service.training.nominations import NominationRow
from recordings_service.training.sampling import Sample
from recordings_service.training_rules import TrainingRules
from web.api.validation import ErrorBody, trimmed

Cursor = str | None
ONE_CALL = "one call's only; a call that is not there or not visible to you is 404"


def given_not_null(value: object) -> object:
    """A PATCH field sent as null was read as left out: a script clearing a description with null got a 200 and
    the description kept. Null is refused, naming the field; a field left out stays as it is."""
    if value is None:
        raise PydanticCustomError("null_value", "give a value, or leave the field out to keep it as it is")
    return value


class RulesOut(BaseModel):
    honours_research_objection: bool = Field(description="customers who objected to research are left out too")
    show_agents: bool = Field(description="agents are shown by their refs; otherwise as stable pseudonyms")


class SampledCallOut(BaseModel):
    recording_id: str
    started_at: IsoDatetime
    duration_s: float
    direction: str
    queue: str
    language: str
    agent: str
    score: float | None = Field(description="the latest evaluation's total, in percent")
    evaluated: bool
    stratum: str | None
    nominations: dict[str, int] = Field(description="QA nominations by kind")


class SampleOut(BaseModel):
    seed: int = Field(description="pass it back to draw the same sample")
    mode: str
    stratify_by: str | None
    matched: int = Field(description="calls matching the criteria")
    eligible: int
    excluded: dict[str, int] = Field(description="matching calls left out, by reason")
    strata: dict[str, int] = Field(description="calls drawn per stratum")
    rules: RulesOut
    calls: list[SampledCallOut]


class NominationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recording_id: EntityId
    kind: NominationKind
    note: Annotated[str, trimmed(nominations.MAX_NOTE)] = Field(
        default="", description="for trainers; personal data is redacted"
    )
    start_s: float | None = Field(default=None, description="a span of the call (with end_s), or the whole call")
    end_s: float | None = None


class NominationOut(BaseModel):
    id: str
    recording_id: str
    kind: str
    note: str
    start_s: float | None
    end_s: float | None
    by: str | None
    created_at: IsoDatetime


class NominationsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recording_id: str | None = Field(default=None, max_length=26, description=ONE_CALL)
    kind: NominationKind | None = None
    cursor: Cursor = None
    limit: int = Field(default=50, ge=1, le=nominations.MAX_PAGE)


class NominationPageOut(BaseModel):
    items: list[NominationOut]
    next_cursor: str | None


class ClipIn(BaseModel):
    """A span by times, or a transcript selection by segment numbers (from 0, both included)."""

    model_config = ConfigDict(extra="forbid")

    recording_id: EntityId
    start_s: float | None = None
    end_s: float | None = None
    first_segment: int | None = Field(default=None, ge=0)
    last_segment: int | None = Field(default=None, ge=0)
    title: Annotated[str, trimmed(clips.MAX_TITLE, min_length=1)]
    tags: list[str] = Field(default_factory=list, max_length=clip_tags.MAX_TAGS)
    notes: Annotated[str, trimmed(clips.MAX_NOTES)] = ""


class ClipPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, trimmed(clips.MAX_TITLE, min_length=1)] | None = None
    tags: list[str] | None = Field(default=None, max_length=clip_tags.MAX_TAGS)
    notes: Annotated[str, trimmed(clips.MAX_NOTES)] | None = None

    _not_null = field_validator("title", "tags", "notes", mode="before")(given_not_null)


class TranscriptLineOut(BaseModel):
    speaker: str | None
    start: float = Field(description="seconds from the clip's start")
    end: float
    text: str = Field(description="redacted")


class ClipAudioOut(BaseModel):
    opus: str
    mp3: str


class ClipOut(BaseModel):
    id: str
    recording_id: str
    start_s: float
    end_s: float
    duration_s: float
    title: str
    tags: list[str]
    notes: str
    status: str = Field(description="available, outdated (cut it again), withdrawn or removed")
    reason: str | None = Field(description="why it is not available: e.g. retention, objects_to_marketing")
    agent: str | None
    by: str | None
    created_at: IsoDatetime
    audio: ClipAudioOut | None = Field(description="while it is available")
    transcript: list[TranscriptLineOut]


class ClipsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recording_id: str | None = Field(default=None, max_length=26, description=ONE_CALL)
    mine: bool = False
    cursor: Cursor = None
    limit: int = Field(default=50, ge=1, le=200)


class ClipAudioQuery(BaseModel):
    format: str = Field(
        default="opus", description="the codec to play the clip in", json_schema_extra={"enum": list(clips.MEDIA)}
    )


# What a clip's audio is served as, by codec.
CLIP_MEDIA_TYPES = tuple(media_type for _suffix, media_type in clips.MEDIA.values())


class ClipPageOut(BaseModel):
    items: list[ClipOut]
    next_cursor: str | None


class TrainingCallOut(BaseModel):
    id: str
    started_at: IsoDatetime
    duration_s: float
    direction: str
    queue: str
    language: str
    agent: str
    score: float | None
    evaluated: bool
    usable: bool = Field(description="trainers may sample it and cut clips from it")
    exclusion: str | None
    rules: RulesOut
    audio: str = Field(description="the redacted audio")
    audio_playable: bool = Field(
        description="whether `audio` can be played now: not while the call has no redacted transcript, may not be "
        "used for training, or its audio is missing from storage"
    )
    nominations: list[NominationOut]
    clips: list[str] = Field(description="ids of the library's clips of this call")
    transcript: list[dict[str, Any]] = Field(description="the redacted transcript's segments")


class SetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, trimmed(clips.MAX_TITLE, min_length=1)]
    description: Annotated[str, trimmed(sets.MAX_DESCRIPTION)] = ""
    shared: bool = Field(default=False, description="other trainers may see, play and export it")
    clip_ids: list[EntityId] = Field(default_factory=list, max_length=sets.MAX_CLIPS, description="in playing order")


class SetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, trimmed(clips.MAX_TITLE, min_length=1)] | None = None
    description: Annotated[str, trimmed(sets.MAX_DESCRIPTION)] | None = None
    shared: bool | None = None
    clip_ids: list[EntityId] | None = Field(default=None, max_length=sets.MAX_CLIPS, description="the whole new order")
    version: int | None = Field(
        default=None,
        description="the set's `version` this change was made from: if the set changed since, the change is refused "
        "(409 `set_changed`, with the set's `version` now); left out, the change is made whatever the version",
    )

    _not_null = field_validator("title", "description", "shared", "clip_ids", "version", mode="before")(given_not_null)


class SetItemOut(BaseModel):
    position: int
    clip: ClipOut


class SetSummaryOut(BaseModel):
    id: str
    title: str
    description: str
    shared: bool
    mine: bool
    clips: int
    created_at: IsoDatetime
    updated_at: IsoDatetime
    version: int = Field(description="changes with each change to the set: send it with a PATCH made from it")


class SetConflictBody(ErrorBody):
    """409: `set_changed` (the set changed since the version a PATCH was made from), or a clip that cannot join."""

    version: int | None = Field(default=None, description="with `set_changed`: the set's version now")


class SetOut(SetSummaryOut):
    owner: str | None
    items: list[SetItemOut]


class SetsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mine: bool = False
    cursor: Cursor = None
    limit: int = Field(default=50, ge=1, le=sets.MAX_PAGE)


class SetPageOut(BaseModel):
    items: list[SetSummaryOut]
    next_cursor: str | None


class ExportOut(BaseModel):
    id: str
    set_id: str
    title: str
    clips: int
    created_at: IsoDatetime
    expires_at: IsoDatetime
    download: str = Field(description="the ZIP, until expires_at")


def rules_out(rules: TrainingRules) -> RulesOut:
    return RulesOut(honours_research_objection=rules.honours_research_objection, show_agents=rules.show_agents)


def sample_out(sample: Sample) -> SampleOut:
    return SampleOut(
        seed=sample.seed,
        mode=sample.mode.value,
        stratify_by=sample.stratify_by.value if sample.stratify_by else None,
        matched=sample.matched,
        eligible=sample.eligible,
        excluded=sample.excluded,
        strata=sample.strata,
        rules=rules_out(sample.rules),
        calls=[SampledCallOut.model_validate(call, from_attributes=True) for call in sample.calls],
    )


def nomination_out(row: NominationRow) -> NominationOut:
    item = row.nomination
    return NominationOut(
        id=item.id,
        recording_id=item.recording_id,
        kind=item.kind,
        note=item.note,
        start_s=item.start_s,
        end_s=item.end_s,
        by=row.by,
        created_at=item.created_at,
    )


def clip_out(view: ClipView) -> ClipOut:
    clip = view.clip
    base = f"/api/v1/training/clips/{clip.id}/audio"
    available = view.status is ClipStatus.AVAILABLE
    return ClipOut(
        id=clip.id,
        recording_id=clip.recording_id,
        start_s=clip.start_s,
        end_s=clip.end_s,
        duration_s=view.duration_s,
        title=view.title,
        tags=view.tags,
        notes=view.notes,
        status=view.status.value,
        reason=view.reason,
        agent=view.agent,
        by=view.by,
        created_at=clip.created_at,
        audio=ClipAudioOut(opus=f"{base}?format=opus", mp3=f"{base}?format=mp3") if available else None,
        transcript=[TranscriptLineOut.model_validate(line) for line in view.transcript],
    )


def call_out(call: TrainingCall, rules: TrainingRules) -> TrainingCallOut:
    recording = call.recording
    return TrainingCallOut(
        id=recording.id,
        started_at=recording.started_at,
        duration_s=recording.duration_s,
        direction=recording.direction,
        queue=recording.queue,
        language=recording.language,
        agent=call.agent,
        score=call.score,
        evaluated=call.evaluated,
        usable=call.exclusion is None,
        exclusion=call.exclusion,
        rules=rules_out(rules),
        audio=f"/api/v1/recordings/{recording.id}/audio/redacted",
        audio_playable=call.audio_playable,
        nominations=[nomination_out(row) for row in call.nominations],
        clips=[clip.id for clip in call.clips],
        transcript=call.transcript,
    )


def set_summary(training_set: TrainingSet, *, actor_id: str | None) -> SetSummaryOut:
    return SetSummaryOut(
        id=training_set.id,
        title=training_set.title,
        description=training_set.description,
        shared=training_set.shared,
        mine=training_set.owner_id == actor_id,
        clips=len(training_set.items),
        created_at=training_set.created_at,
        updated_at=training_set.updated_at,
        version=sets.set_version(training_set),
    )


def set_out(view: sets.SetView, *, actor_id: str | None) -> SetOut:
    return SetOut(
        **set_summary(view.training_set, actor_id=actor_id).model_dump(),
        owner=view.owner,
        items=[
            SetItemOut(position=item.position, clip=clip_out(clip))
            for item, clip in zip(view.training_set.items, view.items, strict=True)
        ],
    )


def export_out(export: TrainingExport) -> ExportOut:
    return ExportOut(
        id=export.id,
        set_id=export.set_id,
        title=export.title,
        clips=len(export.clip_ids),
        created_at=export.created_at,
        expires_at=export.expires_at,
        download=f"/api/v1/training/exports/{export.id}/download",
    )
