"""A fake Telegram Bot API server as pytest-httpserver handlers on 127.0.0.1.

Calls are ``/bot<token>/<method>`` with case-insensitive method names and parameters read from the
query string, a urlencoded or multipart form, or a JSON object body — all four, as the real server
does. A wrong token gets the real ``401 Unauthorized``; errors carry ``HTTP status == error_code``
(and ``Retry-After`` on 429). Parameters a method does not document are contract violations: they
are recorded in ``problems`` (the fixture fails on any) and refused. Accepted calls are recorded in
``calls`` with their parameters as the server reads them (JSON-serialized fields such as
``reply_markup`` parsed). The webhook state set by ``setWebhook`` is what ``getWebhookInfo``
reports; like the cloud server it refuses webhook URLs that are not HTTPS. Files registered with
``add_file`` (and every photo or document the bot sends) are served by ``getFile`` and
``/file/bot<token>/<file_path>``; messages the bot sends get ids per chat, and editing or deleting
one that does not exist fails like the real server.
"""

from tests.support.fakes.telegram.api import BOT_USER, TOKEN, Call, Webhook
from tests.support.fakes.telegram.server import TelegramFake

__all__ = ["BOT_USER", "TOKEN", "Call", "TelegramFake", "Webhook"]
