"""The dashboard over real HTTP: the 15 slots, their status pills, ingest URLs and active switch."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.orm import Session

from app.db import utcnow
from app.ingest.models import Job
from app.settings.service import save_settings
from app.slots.models import Slot, slot_ids


def slot_row(html: str, slot_id: str) -> str:
    found = re.search(rf'<tr id="slot-row-{slot_id}".*?</tr>', html, re.S)
    assert found, f"no row for {slot_id}"
    return found.group(0)


def add_jobs(session: Session, slot_id: str, *statuses: str) -> None:
    now = utcnow()
    for number, status in enumerate(statuses):
        started = now - timedelta(minutes=30 - number)
        session.add(
            Job(
                id=f"job-{slot_id}-{number}",
                slot_id=slot_id,
                source="ingest",
                status=status,
                failure_reason=None if status == "done" else "provider_rejected",
                provider="local",
                created_at=started,
                started_at=started,
                finished_at=started + timedelta(seconds=2),
                duration_ms=2000,
                deadline_at=started + timedelta(seconds=48),
            )
        )
    session.commit()


def test_dashboard_lists_the_15_slots_with_links_and_ingest_urls(admin_http, live_server):
    page = admin_http.get("/admin/")

    assert page.status_code == 200
    for slot_id in slot_ids():
        row = slot_row(page.text, slot_id)
        assert f'href="/admin/slots/{slot_id}"' in row
        assert f'data-copy="{live_server.url}/ingest/{slot_id}"' in row
        assert 'class="pill pill-ready"' in row


def test_dashboard_pills_show_off_key_missing_and_failing(admin_http, db_session):
    slots = {slot.slot_id: slot for slot in db_session.query(Slot)}
    slots["slot-002"].is_active = False
    slots["slot-003"].provider = "gemini"
    slots["slot-003"].settings = {"model": "gemini-2.5-flash-image", "prompt": "x"}
    db_session.commit()
    add_jobs(db_session, "slot-004", "done", "failed")
    add_jobs(db_session, "slot-005", "done", "done", "done", "timeout", "failed", "failed", "done")
    add_jobs(db_session, "slot-006", "failed", "timeout", "done")

    page = admin_http.get("/admin/").text

    assert 'data-status="off"' in slot_row(page, "slot-002")
    assert 'data-status="key_missing"' in slot_row(page, "slot-003")
    assert 'data-status="failing"' in slot_row(page, "slot-004")
    assert 'data-status="ready"' in slot_row(page, "slot-005")
    assert 'data-status="failing"' in slot_row(page, "slot-006")


def test_dashboard_shows_the_last_job_and_24h_numbers(admin_http, db_session):
    add_jobs(db_session, "slot-007", "done", "failed", "done", "done")

    row = slot_row(admin_http.get("/admin/?lang=en").text, "slot-007")

    assert 'class="pill pill-done"' in row
    assert ">4</td>" in row
    assert "75 %" in row


def test_active_switch_saves_the_slot_and_answers_its_row(admin_http, db_session):
    response = admin_http.post("/admin/slots/slot-008/active", htmx=True, data={})

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<tr id="slot-row-slot-008"')
    assert 'data-status="off"' in response.text
    slot = db_session.get(Slot, "slot-008")
    assert slot is not None
    db_session.refresh(slot)
    assert (slot.is_active, slot.version, slot.updated_by) == (False, 2, "admin")

    back_on = admin_http.post("/admin/slots/slot-008/active", htmx=True, data={"is_active": "on"})
    assert 'data-status="ready"' in back_on.text
    db_session.refresh(slot)
    assert (slot.is_active, slot.version) == (True, 3)


def test_dashboard_redirects_to_login_without_a_session(live_server, http):
    response = http.get(f"{live_server.url}/admin/", allow_redirects=False)

    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_dashboard_shows_the_telegram_deep_link_of_slots_offered_in_telegram(
    admin_http, db_session, config
):
    save_settings(db_session, config, {"telegram_bot_username": "studio_bot"}, "tests")
    db_session.get(Slot, "slot-003").telegram_enabled = True
    db_session.commit()

    page = admin_http.get("/admin/").text

    offered, not_offered = slot_row(page, "slot-003"), slot_row(page, "slot-004")
    assert 'data-copy="https://t.me/studio_bot?start=slot-003"' in offered
    assert 'data-offered="true"' in offered
    assert "t.me" not in not_offered
    assert 'data-offered="false"' in not_offered


def test_dashboard_says_a_slot_is_offered_while_the_bot_is_not_configured(admin_http, db_session):
    db_session.get(Slot, "slot-003").telegram_enabled = True
    db_session.commit()

    row = slot_row(admin_http.get("/admin/").text, "slot-003")

    assert "t.me" not in row
    assert "бот не настроен" in row
