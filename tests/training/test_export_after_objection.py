"""An export made before the customer objected to marketing leaves the objector's clips out of every later download.

An export's ZIP is assembled from the clips as they are on each download (README, Training): a customer's objection
withdraws their calls' clips at once, and a download of an export made before it must not carry them on for the
seven days the export lasts. Left untested by earlier sessions ("export after marketing objection").
"""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.models import Customer
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.training import clips, export, sets
from recordings_service.training.clips import ClipText
from recordings_service.training_rules import TrainingRules
from tests.factories.training import stereo_call, trainer

RULES = TrainingRules()


def test_a_download_after_an_objection_to_marketing_leaves_the_objectors_clips_out(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    actor = trainer(session)
    customers = [Customer(customer_ref=ref) for ref in ("CRM-OBJECTS", "CRM-OTHER")]
    session.add_all(customers)
    session.flush()
    objector, other = (stereo_call(session, store, envelope, customer_id=customer.id) for customer in customers)
    made = [
        clips.cut_clip(
            session,
            store,
            envelope,
            actor=actor,
            recording_id=call.id,
            start_s=3.5,
            end_s=9.2,
            text=ClipText(title=title, notes=""),
            rules=RULES,
            ffmpeg=settings.ffmpeg_path(),
            tone=False,
        ).made
        for call, title in ((objector, "Objector's call"), (other, "Other call"))
    ]
    training_set = sets.create_set(
        session, envelope, actor=actor, title="Set", description="", clip_ids=[clip.id for clip in made], rules=RULES
    ).made
    created = export.export_set(session, actor=actor, set_id=training_set.id)

    before = export.open_export(session, envelope, actor=actor, export_id=created.id, rules=RULES)
    assert len(before.entries) == 2 and all(entry.opus for entry in before.entries)
    session.get_one(Customer, objector.customer_id).objects_to_marketing = True
    session.flush()

    contents = export.open_export(session, envelope, actor=actor, export_id=created.id, rules=RULES)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(export.zip_chunks(store, envelope, contents))))
    listed = json.loads(archive.read("set.json"))["clips"]
    page = archive.read("index.html").decode()

    assert archive.namelist() == ["clips/02.ogg", "clips/02.mp3", "transcripts/02.txt", "set.json", "index.html"]
    assert listed[0] == {"number": 1, "status": "withdrawn", "reason": "objects_to_marketing"}
    assert listed[1]["title"] == "Other call"
    assert "Objector's call" not in page and "Other call" in page
