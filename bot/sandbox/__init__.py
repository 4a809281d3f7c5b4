"""A local Telegram Bot API server for demo mode, end-to-end tests and benchmarks.

``Sandbox`` speaks enough of the Bot API over real HTTP (loopback only) for PTB's
``Application`` to poll it and send to it, checks every call against ``api.json`` and Telegram's
formatting rules, and lets a driver play the users: ``send_text``, ``press_button``,
``set_bot_blocked``, groups and channels with member status and rights (``add_group``,
``add_channel``, ``set_member``, ``set_bot_member``, ``migrate_group``), inline queries,
forwarded channel posts, fault injection and flood emulation (20 messages per minute in a
group or channel).
Webhooks as Telegram does them: ``setWebhook`` (``secret_token``, ``allowed_updates``,
``drop_pending_updates``), ``deleteWebhook``, ``getWebhookInfo`` (with the last delivery
error); while a webhook is set, ``getUpdates`` is refused with 409 and the updates are POSTed
to its URL one at a time with the ``X-Telegram-Bot-Api-Secret-Token`` header, a non-2xx
answer retried (``webhook_deliveries`` records every attempt). Unlike Telegram it also
accepts ``http://`` URLs on the loopback address.

Routes:
    ``/bot<token>/<method>``: the Bot API (GET or POST; query string, form, JSON, multipart).
    ``/file/bot<token>/<file_path>``: downloads of files the bot uploaded (see getFile).
    ``/_sandbox/...``: control endpoints for drivers in another process (JSON in and out,
    answers ``{"ok": true, "result": ...}``):

    - ``POST /_sandbox/send_text`` ``{"user_id": 1, "text": "/start"}`` -> update_id
      (``"chat_id": -5`` to write in a group registered with add_group)
    - ``POST /_sandbox/press_button`` ``{"user_id": 1, "message_id": 2, "data": "x",
      "check": true}`` -> update_id (optional ``chat_id`` as above)
    - ``POST /_sandbox/add_user`` ``{"user_id": 1, "first_name": "Ada", ...}``
    - ``POST /_sandbox/add_group`` ``{"chat_id": -5, "title": "Netzwerk"}``
    - ``POST /_sandbox/add_channel`` ``{"chat_id": -100123, "title": "News", "username":
      "news"}``: the bot is an admin there with the right to post
    - ``POST /_sandbox/set_member`` ``{"chat_id": -5, "user_id": 1, "status":
      "administrator", "rights": {"can_post_messages": true}}``: what getChatMember answers
    - ``POST /_sandbox/set_bot_member`` ``{"chat_id": -5, "status": "kicked", "by": 1}`` ->
      update_id of the my_chat_member update (the bot added, promoted or removed)
    - ``POST /_sandbox/inline_query`` ``{"user_id": 1, "query": "karlsruhe"}`` -> query id;
      ``GET /_sandbox/inline_answer?id=...`` -> answerInlineQuery's parameters
    - ``POST /_sandbox/block`` ``{"user_id": 1, "blocked": true}`` -> update_id
    - ``GET /_sandbox/messages?chat_id=1`` -> the bot's messages in that chat
    - ``GET /_sandbox/calls/count`` -> totals per method, accepted sends, flood refusals
    - ``POST /_sandbox/fault`` ``{"chat_id": 1, "kind": "blocked", "count": null}``
    - ``POST /_sandbox/clear_faults`` ``{"chat_id": 1}`` (omit chat_id for all chats)
    - ``POST /_sandbox/flood`` ``{"enabled": true}``
    - ``POST /_sandbox/storm`` ``{"seconds": 5, "retry_after": 2}``: every send answered 429
    - ``POST /_sandbox/outage`` ``{"kind": "server_error" | "drop", "seconds": null,
      "sends_only": false}``: every request but getUpdates answered 500 or its connection
      dropped, until ``POST /_sandbox/end_outage`` (or ``seconds`` have passed)
    - ``GET /_sandbox/idle?chat_id=1&quiet=1.0&timeout=10`` -> waits like ``wait_idle``

Deliberate differences from the real server: HTML is strict by default (a bare ``&`` or ``>``
is refused as the documentation demands; ``strict_html=False`` accepts them like Telegram), an
inline button must have exactly one action, and faults and blocking apply to send*, copy* and
forward* calls (sendChatAction included) but not to edits.
"""

from bot.sandbox.server import ApiCall, Sandbox, SentFile, SentMessage

__all__ = ["ApiCall", "Sandbox", "SentFile", "SentMessage"]
