"""The whole log of a server that saw logins, uploads, key changes and a Telegram update holds no
password, key, token or image bytes."""

from __future__ import annotations

import base64

import pytest
import requests

from tests.bot.updates import person, text
from tests.support.admin import ADMIN_PASSWORD, ADMIN_USERNAME, AdminClient
from tests.support.ingest import INGEST_PASSWORD, ingest_url, post_photo
from tests.support.servers import closed_port_url

SECRET_KEY = "test-secret-key"
WRONG_ADMIN_PASSWORD = "Wrong-Admin-Guess-31"
WRONG_INGEST_PASSWORD = "Wrong-Booth-Guess-58"
NEW_INGEST_PASSWORD = "New-Booth-Secret-77"
GEMINI_KEY = "AIzaFakeGeminiKeyForLogCheck0123456789"
OPENAI_KEY = "sk-fake-openai-key-for-log-check-abcdef0123"
BOT_TOKEN = "123456789:AAFakeBotTokenForTheLogCheck_abcdefgh"
WEBHOOK_SECRET = "fake-webhook-secret-for-log-check-42"


@pytest.mark.slow
def test_a_busy_servers_log_holds_no_secret_and_no_image_bytes(
    start_gunicorn, admin_account, jpeg, tmp_path
):
    log_path = tmp_path / "app.log"
    server = start_gunicorn(
        log_path=log_path,
        LOG_LEVEL="INFO",
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        TELEGRAM_API_BASE=closed_port_url(),
    )
    admin = AdminClient(server.url)
    with requests.Session() as http, admin.session:
        login = {"username": ADMIN_USERNAME, "password": WRONG_ADMIN_PASSWORD}
        assert http.post(f"{server.url}/api/login", json=login, timeout=10).status_code == 401
        admin.login()
        session_cookie = admin.session.cookies["photochanger_session"]
        saved = admin.post("/admin/settings/keys/openai", data={"api_key": OPENAI_KEY})
        assert saved.status_code < 400, saved.text

        assert post_photo(http, ingest_url(server.url), jpeg).status_code == 200
        wrong = post_photo(http, ingest_url(server.url), jpeg, password=WRONG_INGEST_PASSWORD)
        assert wrong.status_code == 401

        login = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        token = http.post(f"{server.url}/api/login", json=login, timeout=10).json()["access_token"]
        change = {"provider_keys": {"gemini": GEMINI_KEY}, "ingest_password": NEW_INGEST_PASSWORD}
        put = http.put(
            f"{server.url}/api/settings",
            json=change,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert put.status_code == 200, put.text
        again = post_photo(http, ingest_url(server.url), jpeg, password=NEW_INGEST_PASSWORD)
        assert again.status_code == 200, again.text

        webhook = f"{server.url}/telegram/webhook"
        update = text(person(5550001), "/start")
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        assert http.post(webhook, json=update, headers=headers, timeout=60).status_code == 200
        forged = {"X-Telegram-Bot-Api-Secret-Token": "wrong-" + WEBHOOK_SECRET}
        assert http.post(webhook, json=update, headers=forged, timeout=10).status_code == 403
    server.stop()
    assert server.process.stderr is not None
    raw = log_path.read_bytes() + server.process.stderr.read()
    log = raw.decode(errors="replace")

    assert all(event in log for event in ("auth.login.success", "ingest.done", "bot.update"))
    secrets = {
        "admin password": ADMIN_PASSWORD,
        "wrong admin password": WRONG_ADMIN_PASSWORD,
        "ingest password": INGEST_PASSWORD,
        "wrong ingest password": WRONG_INGEST_PASSWORD,
        "new ingest password": NEW_INGEST_PASSWORD,
        "Gemini key": GEMINI_KEY,
        "OpenAI key": OPENAI_KEY,
        "SECRET_KEY": SECRET_KEY,
        "bot token": BOT_TOKEN,
        "bot token secret half": BOT_TOKEN.split(":")[1],
        "webhook secret": WEBHOOK_SECRET,
        "API bearer token": token,
        "session cookie": session_cookie,
        "photo start (base64)": base64.b64encode(jpeg[:30]).decode(),
        "photo middle (base64)": base64.b64encode(jpeg[100:160]).decode(),
        "JPEG magic (base64)": "/9j/",
        "photo start (hex)": jpeg[:16].hex(),
    }
    leaked = [name for name, secret in secrets.items() if secret in log]
    assert leaked == []
    assert jpeg[:4] not in raw
    assert jpeg[100:160] not in raw
