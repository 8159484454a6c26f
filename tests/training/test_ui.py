"""The training library's pages as trainers and QA supervisors use them: pulling a stratified sample with its
exclusions and the rule in force, cutting a clip on a trainer's call view (a refused span comes back with the
reason), gathering clips into a set, reordering, sharing and exporting it, a removed clip shown as removed
(retention), nominating from the call page, and agents shown to trainers as pseudonyms only."""

from __future__ import annotations

import io
import re
import secrets
import zipfile
from dataclasses import replace

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from recordings_service.db import utcnow
from recordings_service.models import AuditEvent, Customer, Nomination, Recording, TrainingClip, TrainingSet, User
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.training import clips
from recordings_service.training.clips import ClipText
from recordings_service.training_rules import TrainingRules
from tests.factories.accounts import csrf_token, make_user, post_form
from tests.factories.evaluations import actor_of
from tests.factories.staff import client_of
from tests.factories.training import sampled_calls, stereo_call, training_call
from web import create_app

CUSTOMER_REF = "CRM-UI-TRAINING-7"


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def submit(client: FlaskClient, path: str, data: dict[str, str | list[str]], *, token_from: str) -> TestResponse:
    """POST a form (lists for repeated fields) with the session's CSRF token, as a browser would."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


def customer_with(session: Session, ref: str | None = None, **flags: bool) -> Customer:
    customer = Customer(customer_ref=ref or f"CRM-{secrets.token_hex(4)}", **flags)
    session.add(customer)
    session.flush()
    return customer


def cut(session: Session, runtime: Runtime, trainer: User, recording: Recording, span: tuple[float, float]) -> str:
    clip = clips.cut_clip(
        session,
        runtime.store,
        runtime.envelope,
        actor=actor_of(trainer),
        recording_id=recording.id,
        start_s=span[0],
        end_s=span[1],
        text=ClipText(title=f"Clip from {span[0]:g} s", tags=("calm",)),
        rules=TrainingRules(),
        ffmpeg=runtime.settings.ffmpeg_path(),
        tone=False,
    ).made
    return clip.id


# ---------------------------------------------------------------- samples


def test_a_stratified_sample_shows_the_eligible_count_the_exclusions_and_the_rule(
    trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    store, envelope = runtime.store, runtime.envelope
    refs = [training_call(session, store, envelope, queue=queue).agent_ref for queue in ("billing", "sales") * 2]
    research_objector = customer_with(session, objects_to_research=True)
    training_call(session, store, envelope, queue="moving", customer_id=research_objector.id)
    training_call(session, store, envelope, queue="moving")
    marketing_objector = customer_with(session, objects_to_marketing=True)
    training_call(session, store, envelope, queue="moving", customer_id=marketing_objector.id)
    training_call(session, store, envelope, queue="sales", purposes=["verification"])
    session.commit()

    blank = text(trainer_client.get("/training/"))
    assert re.search(r'name="seed" type="number" min="0" value="\d+"', blank)
    assert "Objections to research do not apply to training" in blank

    criteria = {"size": "5", "mode": "stratified", "stratify_by": "queue", "seed": "7"}
    response = trainer_client.get("/training/", query_string=criteria)
    page = text(response)
    assert response.status_code == 200, page
    assert '<dd class="eligible-count">6</dd>' in page and '<dd class="drawn-count">5</dd>' in page
    assert "the customer objects to marketing" in page and "not recorded for training" in page
    drawn = sampled_calls(page)
    assert len(drawn) == 5 and sampled_calls(text(trainer_client.get("/training/", query_string=criteria))) == drawn
    queues = re.findall(r"<tr><td>(billing|moving|sales)</td><td>(\d)</td></tr>", page)
    assert sorted(int(count) for _, count in queues) == [1, 2, 2]  # an even spread over three queues
    assert not any(ref in page for ref in refs) and "CRM-" not in page  # agents as pseudonyms, no customers

    refused = trainer_client.get("/training/", query_string={"size": "5", "score_min": "80", "score_max": "20"})
    assert refused.status_code == 422 and "score_max is below score_min" in text(refused)


def test_the_page_states_when_research_objections_are_honoured(
    runtime: Runtime, trainer: User, session: Session
) -> None:
    honouring = replace(runtime, settings=replace(runtime.settings, training_honours_research_objection=True))
    objector = customer_with(session, objects_to_research=True)
    training_call(session, runtime.store, runtime.envelope, customer_id=objector.id)
    session.commit()
    client = client_of(create_app(honouring.settings, runtime=honouring), trainer)
    page = text(client.get("/training/", query_string={"size": "3"}))
    assert "CALLVAULT_TRAINING_HONOURS_RESEARCH_OBJECTION is on" in page
    assert '<dd class="eligible-count">0</dd>' in page and "the customer objects to research" in page


# ---------------------------------------------------------------- a trainer's call view, clips and sets


def test_a_trainer_cuts_a_clip_on_the_call_view_and_a_refused_span_comes_back(
    trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    customer = customer_with(session, CUSTOMER_REF)
    call = stereo_call(session, runtime.store, runtime.envelope, agent_ref="agent-anna", customer_id=customer.id)
    unusable = training_call(session, runtime.store, runtime.envelope, purposes=["verification"])
    session.commit()
    path = f"/training/calls/{call.id}"

    page = text(trainer_client.get(path))
    assert "[PERSONAL_ID]" in page and "131052-308T" not in page and "Virtanen" not in page
    assert "agent-anna" not in page and CUSTOMER_REF not in page
    assert f"/api/v1/recordings/{call.id}/audio/redacted" in page and 'data-start-from="3.9"' in page

    form = {"start_s": "9", "end_s": "3", "title": "Backwards", "tags": "", "notes": ""}
    refused = post_form(trainer_client, f"{path}/clips", form, token_from=path)
    assert refused.status_code == 422 and "the clip must end after it starts" in text(refused)
    assert 'value="Backwards"' in text(refused)  # the form comes back as it was

    form = {"start_s": "3.9", "end_s": "14,4", "title": "Confirming identity", "tags": "identity, calm", "notes": "x"}
    made = post_form(trainer_client, f"{path}/clips", form, token_from=path)
    assert made.status_code == 302 and made.headers["Location"].endswith(f"{path}#call-clips")
    clip = session.scalars(select(TrainingClip).where(TrainingClip.recording_id == call.id)).one()
    assert (clip.start_s, clip.end_s, clip.tags) == (3.9, 14.4, ["identity", "calm"])
    assert "Confirming identity" in text(trainer_client.get(path))

    elsewhere = f"/training/calls/{unusable.id}"
    assert "Trainers may not use this call: not recorded for training." in text(trainer_client.get(elsewhere))
    form = {"start_s": "0", "end_s": "3", "title": "Not allowed", "tags": "", "notes": ""}
    conflict = post_form(trainer_client, f"{elsewhere}/clips", form, token_from=path)
    assert conflict.status_code == 409 and "may not be used for training" in text(conflict)


def test_clips_gathered_into_a_set_reordered_shared_exported_and_a_removed_one_shown(
    app: Flask, trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime
) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    first, second = cut(session, runtime, trainer, call, (0.5, 3.5)), cut(session, runtime, trainer, call, (9.3, 14.4))
    session.commit()

    library = text(trainer_client.get("/training/clips/"))
    assert f"/api/v1/training/clips/{first}/audio?format=opus" in library and "Clip from 9.3 s" in library
    data: dict[str, str | list[str]] = {"title": "Identity checks", "clip_ids": [first, second], "next": "/x"}
    made = submit(trainer_client, "/training/sets/", data, token_from="/training/clips/")
    assert made.status_code == 302
    player_path = made.headers["Location"]
    player = text(trainer_client.get(player_path))
    assert player.index("Clip from 0.5 s") < player.index("Clip from 9.3 s") and 'id="play-set"' in player
    assert 'class="line agent" data-start="0.0" data-end="3.0"' in player  # times from the clip's start

    submit(trainer_client, f"{player_path}/order", {"clip_id": second, "move": "up"}, token_from=player_path)
    player = text(trainer_client.get(player_path))
    assert player.index("Clip from 9.3 s") < player.index("Clip from 0.5 s") and "Order saved." in player
    # Found by exploratory testing: both said "Clip added to the set." / "Order saved." having done nothing.
    submit(trainer_client, f"{player_path}/clips", {"clip_id": ""}, token_from=player_path)
    assert "choose a clip to add" in text(trainer_client.get(player_path))
    submit(trainer_client, f"{player_path}/order", {"clip_id": "NOPE", "move": "up"}, token_from=player_path)
    player = text(trainer_client.get(player_path))
    assert "this clip is not in the set" in player and "Order saved." not in player
    submit(trainer_client, f"{player_path}/share", {"shared": "1"}, token_from=player_path)
    assert '<dd class="set-shared">yes</dd>' in text(trainer_client.get(player_path))

    exported = submit(trainer_client, f"{player_path}/export", {}, token_from=player_path)
    assert "?export=" in exported.headers["Location"]
    page = text(trainer_client.get(exported.headers["Location"]))
    link = re.search(r'href="(/api/v1/training/exports/[0-9A-Z]{26}/download)"', page)
    assert link and "valid until" in page
    download = trainer_client.get(link.group(1))
    assert download.status_code == 200 and len(zipfile.ZipFile(io.BytesIO(download.data)).namelist()) > 4

    gone = session.get_one(TrainingClip, first)
    gone.removed_at, gone.removed_reason, gone.title = utcnow(), "retention", ""
    session.commit()
    page = text(trainer_client.get(player_path))
    assert "removed (retention)" in page and f"/api/v1/training/clips/{first}/audio" not in page

    colleague = client_of(app, make_user(session, role=Role.TRAINER))
    assert "Identity checks" in text(colleague.get("/training/sets/"))  # shared
    submit(colleague, f"{player_path}/order", {"clip_id": second, "move": "down"}, token_from=player_path)
    assert "only the trainer who made a set may change it" in text(colleague.get(player_path))
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "training.edit_denied")).all()


# ---------------------------------------------------------------- nominations and the call page


def test_a_supervisor_nominates_from_the_call_page_and_trainers_filter_on_it(
    app: Flask, trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    nominated = training_call(session, runtime.store, runtime.envelope, agent_ref="agent-bertta")
    training_call(session, runtime.store, runtime.envelope)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    session.commit()
    qa = client_of(app, supervisor)
    path = f"/calls/{nominated.id}"

    page = text(qa.get(path))
    assert "Nominate for trainers" in page and '<dd class="agent">agent-bertta</dd>' in page
    form = {"kind": "good_example", "start_s": "0.5", "end_s": "9", "note": "Calm; the phone 040 123 4567 repeated"}
    assert post_form(qa, f"{path}/nominations", form, token_from=path).status_code == 302
    page = text(qa.get(path))
    assert "Nominated for trainers." in page and "Calm; the phone [PHONE] repeated" in page
    # Found by exploratory testing: a refused nomination redirected, and the note and span typed were gone.
    kept = {"kind": "needs_improvement", "start_s": "2", "end_s": "999", "note": "Hurried close"}
    refused = post_form(qa, f"{path}/nominations", kept, token_from=path)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "must be within the call" in html
    assert 'value="needs_improvement" required checked' in html and ">Hurried close</textarea>" in html
    assert 'value="999" aria-invalid="true" aria-describedby="nomination-error"' in html

    trainers_page = text(trainer_client.get(path))
    assert "agent-bertta" not in trainers_page and '<dd class="agent">agent-' in trainers_page
    assert "[PHONE]" in trainers_page and "Nominate for trainers" not in trainers_page
    assert "agent-bertta" not in text(trainer_client.get("/calls/"))
    assert post_form(trainer_client, f"{path}/nominations", form, token_from=path).status_code == 403
    sample = text(trainer_client.get("/training/", query_string={"size": "5", "nominated": "good_example"}))
    assert sampled_calls(sample) == [nominated.id] and "good example × 1" in sample
    listing = text(trainer_client.get("/training/nominations/"))
    assert f'href="/training/calls/{nominated.id}"' in listing and "[PHONE]" in listing

    [nomination] = session.scalars(select(Nomination)).all()
    withdraw = f"{path}/nominations/withdraw"
    assert post_form(trainer_client, withdraw, {"nomination_id": nomination.id}, token_from=path).status_code == 403
    other = client_of(app, make_user(session, role=Role.QA_SUPERVISOR))
    assert post_form(other, withdraw, {"nomination_id": nomination.id}, token_from=path).status_code == 302
    assert "only the supervisor who made a nomination may withdraw it" in text(other.get(path))
    assert post_form(qa, withdraw, {"nomination_id": nomination.id}, token_from=path).status_code == 302
    assert session.scalars(select(Nomination)).all() == []


def test_the_library_is_for_trainers_and_the_navigation_shows_it(
    app: Flask, trainer_client: FlaskClient, session: Session
) -> None:
    assert 'href="/training/"' in text(trainer_client.get("/dashboard"))
    qa = client_of(app, make_user(session, role=Role.QA_SUPERVISOR))
    dashboard = text(qa.get("/dashboard"))
    assert 'href="/training/"' not in dashboard and 'href="/training/nominations/"' in dashboard
    assert qa.get("/training/").status_code == 403 and qa.get("/training/sets/").status_code == 403
    assert qa.get("/training/nominations/").status_code == 200
    finnish = text(trainer_client.get("/training/", headers={"Accept-Language": "fi"}))
    assert "Poimi otos" in finnish


def test_a_refused_new_set_of_ticked_clips_comes_back_with_its_title_description_and_ticks(
    trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime
) -> None:
    """Found by exploratory testing: a refused new set (here a ticked clip removed since the page was loaded)
    redirected to the clips page with an empty form; the title, the description and every tick were gone."""
    call = stereo_call(session, runtime.store, runtime.envelope)
    kept, gone = cut(session, runtime, trainer, call, (0.5, 3.5)), cut(session, runtime, trainer, call, (9.3, 14.4))
    session.commit()
    trainer_client.get("/training/clips/")  # the page the trainer ticks on, before the clip goes
    removed = session.get_one(TrainingClip, gone)
    removed.removed_at, removed.removed_reason = utcnow(), "retention"
    session.commit()

    data: dict[str, str | list[str]] = {
        "title": "Identity checks",
        "description": "Listen for the second question",
        "shared": "1",
        "clip_ids": [kept, gone],
        "next": "/training/clips/",
    }
    refused = submit(trainer_client, "/training/sets/", data, token_from="/training/clips/")
    page = text(refused)
    assert refused.status_code == 409 and "cannot be added" in page
    assert 'value="Identity checks"' in page and ">Listen for the second question</textarea>" in page
    assert re.search(rf'value="{kept}" id="pick-{kept}" checked', page)
    assert re.search(r'name="shared" value="1" checked', page)


def test_a_refused_empty_set_comes_back_with_what_was_typed(trainer_client: FlaskClient, session: Session) -> None:
    """A title of spaces on the sets page redirected to an empty form: the description and the tick were gone."""
    data = {"title": "   ", "description": "Calls to listen to in week one", "shared": "1"}
    refused = submit(trainer_client, "/training/sets/", data, token_from="/training/sets/")
    page = text(refused)
    assert refused.status_code == 422 and 'role="alert" id="form-error"' in page
    assert re.search(r'<input id="title" name="title" value="   "[^>]*aria-invalid="true"', page)
    assert ">Calls to listen to in week one</textarea>" in page
    assert re.search(r'name="shared" value="1" checked', page)
    assert session.scalars(select(TrainingSet).where(TrainingSet.description.contains("week one"))).all() == []


def test_a_change_to_a_set_deleted_in_another_tab_goes_back_to_the_sets(
    trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime
) -> None:
    """Found by exploratory testing: saving a set deleted meanwhile (another tab) went to the set's page, a 404,
    and "the training set was not found" turned up later on whichever page came next."""
    call = stereo_call(session, runtime.store, runtime.envelope)
    clip = cut(session, runtime, trainer, call, (0.5, 3.5))
    session.commit()
    made = submit(trainer_client, "/training/sets/", {"title": "Openings"}, token_from="/training/sets/")
    path = made.headers["Location"]
    trainer_client.get(path)  # the other tab, open on the set
    assert submit(trainer_client, f"{path}/delete", {}, token_from=path).status_code == 302

    for action, data in (("edit", {"title": "Openings, kept"}), ("clips", {"clip_id": clip}), ("export", {})):
        refused = submit(trainer_client, f"{path}/{action}", data, token_from="/training/sets/")
        assert refused.headers["Location"] == "/training/sets/", action
        assert "the training set was not found" in text(trainer_client.get("/training/sets/"))

    kept = submit(trainer_client, "/training/sets/", {"title": "Closings"}, token_from="/training/sets/")
    other = kept.headers["Location"]
    refused = submit(trainer_client, f"{other}/clips", {"clip_id": "01NOSUCHCLIP"}, token_from=other)
    assert refused.headers["Location"] == other  # a clip not found leaves the set's page where it is


def test_an_outdated_clip_is_cut_again_from_the_set_page_that_says_so(
    app: Flask, trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime
) -> None:
    """Found by exploratory testing: a set's page said "outdated: the call's redactions changed, cut it again" with
    nothing to cut it again with; the button was on the clips page only, among every trainer's clips."""
    call = stereo_call(session, runtime.store, runtime.envelope)
    clip_id = cut(session, runtime, trainer, call, (0.5, 3.5))
    session.commit()
    made = submit(
        trainer_client,
        "/training/sets/",
        {"title": "Openings", "clip_ids": [clip_id], "shared": "1"},
        token_from="/training/clips/",
    )
    path = made.headers["Location"]
    stale = session.get_one(TrainingClip, clip_id)
    stale.muted_spans = [[1.0, 1.5]]  # as cut before the call's redactions changed
    session.commit()

    colleague = client_of(app, make_user(session, role=Role.TRAINER))  # any trainer may cut it again
    page = text(colleague.get(path))
    assert "cut it again" in page
    assert f'action="/training/clips/{clip_id}/recut"' in page
    done = submit(colleague, f"/training/clips/{clip_id}/recut", {"next": f"{path}#clip-{clip_id}"}, token_from=path)
    assert done.headers["Location"] == f"{path}#clip-{clip_id}"
    page = text(colleague.get(path))
    assert "The clip was cut again from the current redacted audio." in page and "cut it again" not in page
