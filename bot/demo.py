"""``netzwerkbot demo``: chat with the real bot in the terminal, against the local sandbox.

The sandbox is a small Bot API server on a free local port; the bot polls it over real
HTTP exactly as it polls Telegram. No token and no internet are needed. The database is
temporary unless ``--database`` is given. A local SMTP server (aiosmtpd) receives the bot's
e-mails, which are printed in the terminal, and a demo member (``DEMO_MEMBER_EMAIL``) exists,
so the whole /konto and /kennwort flow can be tried. On a terminal the person types
messages; a line ``#N`` presses button N of the last message that has buttons. When standard
input is not a terminal, every line is one message: the demo waits after each until the bot
has been quiet for a second (at most ten), prints the replies and exits at the end of the
input.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from bot.app import build_application, running, services_of
from bot.delivery.mail import SmtpSettings
from bot.domain.clock import SystemClock
from bot.i18n import translator
from bot.sandbox import Sandbox
from bot.sandbox.mailsink import SINK_SENDER, MailSink
from storage.members import MemberRow, MemberStore

if TYPE_CHECKING:
    from bot.app import BotApp
    from bot.config import Settings
    from bot.sandbox import SentMessage
    from bot.sandbox.mailsink import ReceivedMail

DEMO_USER_ID: Final = 4242
DEMO_USER_NAME: Final = "Demo"
QUIET_SECONDS: Final = 1.0
MAX_WAIT_SECONDS: Final = 10.0
PRESS: Final = re.compile(r"^#(\d+)$")
DEMO_MEMBER_EMAIL: Final = "demo@example.org"
DEMO_MEMBER_NAME: Final = "Demo Mitglied"


class Transcript:
    """Prints what the bot sent that the person has not seen yet, buttons numbered."""

    def __init__(self, sandbox: Sandbox, out: TextIO, sink: MailSink | None = None) -> None:
        self._sandbox = sandbox
        self._out = out
        self._sink = sink
        self._mails_seen = 0
        self._seen: dict[int, tuple[int, bool]] = {}
        self.buttons: list[tuple[int, str]] = []  # (message id, callback data) of the last

    def print_new(self) -> None:
        """Print new and edited bot messages, in order."""
        for message in self._sandbox.messages(DEMO_USER_ID):
            state = (message.edits, message.deleted)
            if self._seen.get(message.message_id) == state:
                continue
            self._seen[message.message_id] = state
            if message.deleted:
                continue
            self._print_message(message, edited=message.edits > 0)
        if self._sink is not None:
            for mail in self._sink.mails[self._mails_seen :]:
                self._print_mail(mail)
            self._mails_seen = len(self._sink.mails)
        self._out.flush()

    def _print_mail(self, mail: ReceivedMail) -> None:
        _ = translator().gettext
        header = _("E-mail to {to}: {subject}").format(to=mail.to, subject=mail.subject)
        print(f"\n── {header} ──", file=self._out)
        print(mail.body.rstrip("\n"), file=self._out)

    def _print_message(self, message: SentMessage, *, edited: bool) -> None:
        _ = translator().gettext
        header = _("Bot (edited)") if edited else _("Bot")
        print(f"\n── {header} ──", file=self._out)
        if message.document is not None:
            print(
                _("[File: {name}, {size} bytes]").format(
                    name=message.document.file_name, size=len(message.document.content)
                ),
                file=self._out,
            )
        if message.text:
            print(message.text, file=self._out)
        if message.caption:
            print(message.caption, file=self._out)
        rows = (message.reply_markup or {}).get("inline_keyboard", [])
        if rows:
            self.buttons = []
            for row in rows:
                labels = []
                for button in row:
                    if "callback_data" in button:
                        self.buttons.append((message.message_id, button["callback_data"]))
                        labels.append(f"[#{len(self.buttons)}] {button['text']}")
                    elif "url" in button:
                        labels.append(f"[{button['text']}: {button['url']}]")
                print("  ".join(labels), file=self._out)


async def run_demo(
    settings: Settings,
    *,
    database: Path | None,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
) -> int:
    """Run the sandbox and the bot, and let a person chat with it; return the exit code."""
    _ = translator().gettext
    with tempfile.TemporaryDirectory(prefix="netzwerkbot-demo-") as tmp:
        path = database or Path(tmp) / "demo.sqlite3"
        async with Sandbox() as sandbox, MailSink() as sink:
            demo_settings = replace(
                settings,
                token=sandbox.token,
                api_url=sandbox.base_url,
                database=path,
                smtp=SmtpSettings.local(sink.host, sink.port, SINK_SENDER),
                # Long polling against the sandbox, and no listener that could collide with
                # a production bot's port on the same machine.
                http=None,
                webhook=None,
            )
            app = build_application(demo_settings, seed_demo=True)
            async with running(app, drop_pending_updates=True):
                await _add_demo_member(app)
                sandbox.add_user(DEMO_USER_ID, first_name=DEMO_USER_NAME)
                transcript = Transcript(sandbox, out, sink)
                interactive = stdin.isatty()
                if interactive:
                    print(
                        _(
                            "netzwerkbot demo: you are chatting with the bot as a member. "
                            "Write a message, press a button with #N, end with Ctrl+D."
                        ),
                        file=out,
                    )
                    print(
                        _(
                            "Try /konto or /kennwort with the demo member's address {email}; "
                            "the bot's e-mails appear here."
                        ).format(email=DEMO_MEMBER_EMAIL),
                        file=out,
                    )
                await _converse(sandbox, transcript, stdin, out, interactive=interactive)
    return 0


async def _add_demo_member(app: BotApp) -> None:
    """Add the demo member (in the first network of the data) unless it exists."""
    stores = services_of(app).stores
    catalog = await stores.catalog.current()
    network = catalog.networks[0].slug
    row = MemberRow(1, DEMO_MEMBER_EMAIL, DEMO_MEMBER_NAME, network)
    if isinstance(stores.members, MemberStore):  # an LDAP directory has its own members
        await stores.members.import_members([row], now=SystemClock().now())


async def _converse(
    sandbox: Sandbox, transcript: Transcript, stdin: TextIO, out: TextIO, *, interactive: bool
) -> None:
    """Read lines until the end of input, send each, print the replies."""
    _ = translator().gettext
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            print("\n> ", end="", file=out, flush=True)
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        text = line.rstrip("\n")
        if not text.strip():
            continue
        if not interactive:
            print(f"\n> {text}", file=out)
        if (press := PRESS.match(text.strip())) is not None:
            number = int(press.group(1))
            if not 1 <= number <= len(transcript.buttons):
                print(_("There is no button #{number}.").format(number=number), file=out)
                continue
            message_id, data = transcript.buttons[number - 1]
            sandbox.press_button(DEMO_USER_ID, message_id, data)
        else:
            sandbox.send_text(DEMO_USER_ID, text)
        try:
            await sandbox.wait_idle(DEMO_USER_ID, quiet=QUIET_SECONDS, timeout=MAX_WAIT_SECONDS)
        except TimeoutError:
            print(_("(The bot did not become quiet within ten seconds.)"), file=out)
        transcript.print_new()
