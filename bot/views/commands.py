"""The bot's commands: one list serves the command menu and the help text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.domain.text import N_


@dataclass(frozen=True, slots=True)
class Command:
    """A command as shown in the menu: name without slash, English msgid of its description."""

    name: str
    description: str


MEMBER_COMMANDS: Final[tuple[Command, ...]] = (
    Command("start", N_("Welcome and overview")),
    Command("netzwerke", N_("The regional IT networks")),
    Command("termine", N_("Upcoming meetings")),
    Command("treffen", N_("The next meeting")),
    Command("kalender", N_("Meetings in your calendar app")),
    Command("abo", N_("What you follow: networks, meetings, news")),
    Command("erinnerungen", N_("When reminders arrive")),
    Command("stopp", N_("Unsubscribe from everything")),
    Command("konto", N_("Link this chat to your membership")),
    Command("kennwort", N_("Set a new password")),
    Command("datenschutz", N_("What I store about you")),
    Command("meine_daten", N_("Your data as a file")),
    Command("daten_loeschen", N_("Delete your data")),
    Command("hilfe", N_("What you can ask me")),
)

# A group's menu: what works in a group (accounts, privacy and circulars are private only).
GROUP_COMMAND_NAMES: Final = frozenset(
    {"netzwerke", "termine", "treffen", "abo", "erinnerungen", "stopp", "hilfe"}
)
GROUP_COMMANDS: Final[tuple[Command, ...]] = tuple(
    c for c in MEMBER_COMMANDS if c.name in GROUP_COMMAND_NAMES
)

# Admins see these after the member commands (a chat-scoped menu replaces the default one).
ADMIN_COMMANDS: Final[tuple[Command, ...]] = (
    Command("termin_neu", N_("Admin: create a meeting")),
    Command("termin_aendern", N_("Admin: change a meeting")),
    Command("termin_absagen", N_("Admin: cancel a meeting")),
    Command("teilnehmer", N_("Admin: who comes to a meeting")),
    Command("rundschreiben", N_("Admin: send a circular to subscribers")),
    Command("rundschreiben_status", N_("Admin: running and planned circulars")),
    Command("kanal_verbinden", N_("Admin: connect a channel that follows topics")),
    Command("kanal_trennen", N_("Admin: disconnect a channel")),
    Command("admin_hinzufuegen", N_("Admin: add an admin (Telegram user id)")),
    Command("admin_entfernen", N_("Admin: remove an admin")),
    Command("protokoll", N_("Admin: latest admin actions")),
    Command("statistik", N_("Admin: subscribers, circulars, reminders in numbers")),
    Command("unbeantwortet", N_("Admin: questions I could not answer")),
)
