"""The database schema as an append-only list of named migrations.

Never edit or reorder a migration that has shipped: append a new one. Each migration runs
statement by statement inside one ``BEGIN IMMEDIATE`` transaction together with its row in
``schema_migrations`` (not ``executescript()``, which commits on its own), so a failing
migration leaves the database as it was. A database that records a migration this code does
not know was written by a newer version and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from storage.errors import SchemaError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from storage.db import Database


@dataclass(frozen=True, slots=True)
class Migration:
    """One named schema step.

    ``foreign_keys_off`` is for steps that rebuild a table (SQLite's "12-step" procedure):
    foreign keys are switched off around the transaction and checked before the commit.
    """

    name: str
    statements: tuple[str, ...]
    foreign_keys_off: bool = False


SQL_CREATE_BOOKKEEPING: Final = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL
)"""
SQL_APPLIED: Final = "SELECT name FROM schema_migrations ORDER BY applied_at, rowid"
SQL_IS_APPLIED: Final = "SELECT 1 FROM schema_migrations WHERE name = ?"
SQL_RECORD: Final = "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)"
SQL_FOREIGN_KEYS_OFF: Final = "PRAGMA foreign_keys = OFF"
SQL_FOREIGN_KEYS_ON: Final = "PRAGMA foreign_keys = ON"
SQL_FOREIGN_KEY_CHECK: Final = "PRAGMA foreign_key_check"

# The alliance's facts. Lists of plain strings are JSON arrays (order kept); lists that
# point elsewhere are child tables with a position and foreign keys. Times are UTC
# ISO-8601 text, days ISO dates. `position` keeps the order of first import.
CATALOG: Final = Migration(
    "0001_catalog",
    (
        """
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            label TEXT NOT NULL,
            title TEXT NOT NULL,
            publisher TEXT NOT NULL,
            url TEXT NOT NULL,
            date TEXT
        )""",
        """
        CREATE TABLE people (
            id TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            organisation TEXT NOT NULL,
            summary TEXT NOT NULL,
            contact TEXT
        )""",
        """
        CREATE TABLE person_sources (
            person_id TEXT NOT NULL REFERENCES people (id)
                ON UPDATE CASCADE ON DELETE CASCADE,
            position INTEGER NOT NULL,
            source_id TEXT NOT NULL REFERENCES sources (id)
                ON UPDATE CASCADE ON DELETE RESTRICT,
            PRIMARY KEY (person_id, position)
        )""",
        "CREATE INDEX person_sources_source ON person_sources (source_id)",
        """
        CREATE TABLE networks (
            slug TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            short_name TEXT NOT NULL,
            name_is_placeholder INTEGER NOT NULL CHECK (name_is_placeholder IN (0, 1)),
            aliases TEXT NOT NULL DEFAULT '[]',
            city TEXT NOT NULL,
            region TEXT NOT NULL,
            description TEXT NOT NULL,
            membership TEXT NOT NULL CHECK (membership IN ('confirmed', 'known_by_city_only')),
            led_by TEXT,
            supported_by TEXT,
            figures TEXT NOT NULL DEFAULT '[]',
            facts TEXT NOT NULL DEFAULT '[]',
            website TEXT,
            contact TEXT,
            membership_basis TEXT,
            source_note TEXT
        )""",
        """
        CREATE TABLE network_sources (
            network_slug TEXT NOT NULL REFERENCES networks (slug)
                ON UPDATE CASCADE ON DELETE CASCADE,
            position INTEGER NOT NULL,
            source_id TEXT NOT NULL REFERENCES sources (id)
                ON UPDATE CASCADE ON DELETE RESTRICT,
            PRIMARY KEY (network_slug, position)
        )""",
        "CREATE INDEX network_sources_source ON network_sources (source_id)",
        """
        CREATE TABLE events (
            id TEXT PRIMARY KEY,
            fictional INTEGER NOT NULL CHECK (fictional IN (0, 1)),
            kind TEXT NOT NULL
                CHECK (kind IN ('network_meeting', 'constituent_meeting', 'press_conference')),
            number INTEGER,
            title TEXT NOT NULL,
            subtitle TEXT,
            description TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('held', 'announced', 'planned', 'cancelled')),
            date TEXT,
            date_known INTEGER NOT NULL DEFAULT 1 CHECK (date_known IN (0, 1)),
            date_text TEXT,
            starts_at TEXT,
            ends_at TEXT,
            city TEXT,
            region TEXT,
            venue TEXT,
            venue_note TEXT,
            host_note TEXT,
            audience TEXT,
            speakers_note TEXT,
            regions_present TEXT NOT NULL DEFAULT '[]',
            outcomes TEXT NOT NULL DEFAULT '[]',
            created_by INTEGER,
            created_at TEXT,
            CHECK (date_known = 1 OR (date IS NULL AND starts_at IS NULL)),
            CHECK (ends_at IS NULL OR starts_at IS NOT NULL)
        )""",
        "CREATE INDEX events_date ON events (date)",
        """
        CREATE TABLE event_hosts (
            event_id TEXT NOT NULL REFERENCES events (id)
                ON UPDATE CASCADE ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            network_slug TEXT REFERENCES networks (slug)
                ON UPDATE CASCADE ON DELETE SET NULL,
            PRIMARY KEY (event_id, position)
        )""",
        "CREATE INDEX event_hosts_network ON event_hosts (network_slug)",
        """
        CREATE TABLE event_programme (
            event_id TEXT NOT NULL REFERENCES events (id)
                ON UPDATE CASCADE ON DELETE CASCADE,
            position INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('keynote', 'session', 'tour', 'topic')),
            title TEXT NOT NULL,
            speaker_id TEXT REFERENCES people (id)
                ON UPDATE CASCADE ON DELETE SET NULL,
            summary TEXT,
            PRIMARY KEY (event_id, position)
        )""",
        "CREATE INDEX event_programme_speaker ON event_programme (speaker_id)",
        """
        CREATE TABLE event_sources (
            event_id TEXT NOT NULL REFERENCES events (id)
                ON UPDATE CASCADE ON DELETE CASCADE,
            position INTEGER NOT NULL,
            source_id TEXT NOT NULL REFERENCES sources (id)
                ON UPDATE CASCADE ON DELETE RESTRICT,
            PRIMARY KEY (event_id, position)
        )""",
        "CREATE INDEX event_sources_source ON event_sources (source_id)",
        """
        CREATE TABLE faq (
            id TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            question TEXT NOT NULL,
            answer TEXT NOT NULL,
            about_bot INTEGER NOT NULL DEFAULT 0 CHECK (about_bot IN (0, 1))
        )""",
        """
        CREATE TABLE faq_sources (
            faq_id TEXT NOT NULL REFERENCES faq (id)
                ON UPDATE CASCADE ON DELETE CASCADE,
            position INTEGER NOT NULL,
            source_id TEXT NOT NULL REFERENCES sources (id)
                ON UPDATE CASCADE ON DELETE RESTRICT,
            PRIMARY KEY (faq_id, position)
        )""",
        "CREATE INDEX faq_sources_source ON faq_sources (source_id)",
        # The singletons alliance, initiative and funding as JSON documents.
        """
        CREATE TABLE documents (
            name TEXT PRIMARY KEY CHECK (name IN ('alliance', 'initiative', 'funding')),
            body TEXT NOT NULL CHECK (json_valid(body)),
            updated_at TEXT NOT NULL
        )""",
    ),
)

# Who follows what, the reminders owed to them and the other pushes (notices, the Monday
# preview; broadcasts later). The database is the truth for every push: a row is written in
# the same transaction as the change that causes it, and its status records whether it went
# out, so a restart never loses or repeats one. Chat ids are Telegram's (private chat id ==
# user id); times are UTC ISO-8601 text of fixed width (seconds, "+00:00"), so text order is
# time order.
SUBSCRIPTIONS: Final = Migration(
    "0002_subscriptions",
    (
        """
        CREATE TABLE subscribers (
            chat_id INTEGER PRIMARY KEY,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
            leads TEXT NOT NULL DEFAULT '["1d", "2h"]' CHECK (json_valid(leads)),
            quiet_start TEXT,
            quiet_end TEXT,
            stopped TEXT CHECK (stopped IS NULL OR json_valid(stopped)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            blocked_at TEXT,
            CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
        )""",
        """
        CREATE TABLE subscriptions (
            chat_id INTEGER NOT NULL REFERENCES subscribers (chat_id) ON DELETE CASCADE,
            topic TEXT NOT NULL
                CHECK (topic IN ('network', 'meetings', 'news', 'event', 'weekly')),
            target TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, topic, target),
            CHECK ((topic IN ('network', 'event')) = (target <> ''))
        ) WITHOUT ROWID""",
        "CREATE INDEX subscriptions_topic ON subscriptions (topic, target)",
        """
        CREATE TABLE reminders (
            id INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL REFERENCES events (id) ON UPDATE CASCADE ON DELETE CASCADE,
            chat_id INTEGER NOT NULL REFERENCES subscribers (chat_id) ON DELETE CASCADE,
            lead TEXT NOT NULL CHECK (lead IN ('1w', '1d', '2h')),
            due_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'dropped', 'failed')),
            sent_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            UNIQUE (event_id, chat_id, lead)
        )""",
        "CREATE INDEX reminders_due ON reminders (status, due_at)",
        "CREATE INDEX reminders_chat ON reminders (chat_id)",
        # One row per push to one chat. `kind` says how the bot renders `payload` (JSON);
        # 'broadcast' is reserved for the news broadcasts of a later issue, whose rows will
        # point at one stored message instead of repeating it. `dedupe_key` makes a job
        # that runs twice (the Monday preview, a resumed broadcast) add nothing the second
        # time. 'unknown': in flight when the bot crashed, for kinds that must not repeat.
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('notice', 'weekly', 'broadcast')),
            payload TEXT NOT NULL CHECK (json_valid(payload)),
            dedupe_key TEXT UNIQUE,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (
                status IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'skipped', 'unknown')
            ),
            due_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        )""",
        "CREATE INDEX outbox_due ON outbox (status, due_at)",
        "CREATE INDEX outbox_chat ON outbox (chat_id)",
    ),
)

# Admins added in the chat (those from NETZWERKBOT_ADMINS live only in the environment) and
# the audit log of every admin action: who, when, what (details as JSON, never secrets).
ADMINS: Final = Migration(
    "0003_admins",
    (
        """
        CREATE TABLE admins (
            user_id INTEGER PRIMARY KEY,
            added_by INTEGER NOT NULL,
            added_at TEXT NOT NULL
        )""",
        """
        CREATE TABLE admin_menus (
            user_id INTEGER PRIMARY KEY,
            set_at TEXT NOT NULL
        )""",
        """
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor INTEGER,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
        )""",
        "CREATE INDEX audit_at ON audit (at)",
    ),
)

# News broadcasts (circulars): the message is stored once, as sent to Telegram (text and
# entities, or a file_id with caption and caption entities), so it arrives unchanged even if
# the admin deletes their draft. Starting one snapshots its audience into the outbox, one row
# per recipient (kind 'broadcast', payload '{}', broadcast_id set), in the transaction that
# sets it 'running'. The partial index keeps the dispatcher's due query (reminders' notices,
# the Monday preview) off the broadcast rows, which can number 100,000.
BROADCASTS: Final = Migration(
    "0004_broadcasts",
    (
        """
        CREATE TABLE broadcasts (
            id INTEGER PRIMARY KEY,
            created_by INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            content TEXT NOT NULL CHECK (json_valid(content)),
            audience_kind TEXT NOT NULL CHECK (audience_kind IN ('news', 'network', 'event')),
            audience_target TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'draft' CHECK (
                status IN ('draft', 'planned', 'running', 'paused', 'done', 'cancelled')
            ),
            planned_at TEXT,
            started_at TEXT,
            finished_at TEXT,
            recipients INTEGER NOT NULL DEFAULT 0,
            status_chat_id INTEGER NOT NULL,
            status_message_id INTEGER,
            updated_at TEXT NOT NULL,
            CHECK ((audience_kind = 'news') = (audience_target = '')),
            CHECK (status <> 'planned' OR planned_at IS NOT NULL)
        )""",
        "CREATE INDEX broadcasts_status ON broadcasts (status, planned_at)",
        "ALTER TABLE outbox ADD COLUMN broadcast_id INTEGER REFERENCES broadcasts (id)",
        "CREATE INDEX outbox_broadcast ON outbox (broadcast_id, status)",
        "CREATE INDEX outbox_due_pushes ON outbox (status, due_at) WHERE broadcast_id IS NULL",
    ),
)

# Member accounts. `members` is the embedded member directory (storage/members.py): e-mail
# addresses stored normalised (lower-case) and unique, a password only as an argon2id hash,
# and at most one linked Telegram user per member and member per user (in a private chat the
# user id is the chat id). `account_flows` is the state of the /konto and /kennwort dialogs,
# one row per chat, so that it lives in the database and /daten_loeschen reaches it: the step,
# the code only as an HMAC, wrong entries so far, the step's deadline, and a nonce that the
# background mail job must match. `account_requests` counts code requests per chat and per
# address (by its HMAC) for the rate limits; rows older than the window are pruned.
MEMBERS: Final = Migration(
    "0005_members",
    (
        """
        CREATE TABLE members (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            network_slug TEXT REFERENCES networks (slug) ON UPDATE CASCADE ON DELETE SET NULL,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
            password_hash TEXT,
            password_changed_at TEXT,
            telegram_user_id INTEGER UNIQUE,
            linked_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK ((telegram_user_id IS NULL) = (linked_at IS NULL))
        )""",
        "CREATE INDEX members_network ON members (network_slug)",
        """
        CREATE TABLE account_flows (
            chat_id INTEGER PRIMARY KEY,
            nonce TEXT NOT NULL,
            purpose TEXT NOT NULL CHECK (purpose IN ('link', 'password')),
            step TEXT NOT NULL CHECK (step IN ('email', 'code', 'password')),
            member_id INTEGER REFERENCES members (id) ON DELETE CASCADE,
            code_digest TEXT,
            attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 5),
            started_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            CHECK (step <> 'password' OR member_id IS NOT NULL)
        )""",
        "CREATE INDEX account_flows_member ON account_flows (member_id)",
        """
        CREATE TABLE account_requests (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER,
            email_digest TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        "CREATE INDEX account_requests_email ON account_requests (email_digest, at)",
        "CREATE INDEX account_requests_chat ON account_requests (chat_id, at)",
    ),
)

# How free-text questions ended, per day (UTC) and outcome, for /statistik: counts only,
# never the question or who asked.
STATS: Final = Migration(
    "0008_ops_stats",
    (
        """
        CREATE TABLE question_stats (
            day TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('answered', 'unknown')),
            count INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0),
            PRIMARY KEY (day, outcome)
        ) WITHOUT ROWID""",
    ),
)

# Messages the bot could not answer, kept for the admins (/unbeantwortet) so the alliance can
# improve its data and the bot: the text only (no user id, no chat id), at most 500
# characters, deleted after 30 days (storage.unanswered purges on every write and read).
UNANSWERED: Final = Migration(
    "0009_qa2_unanswered",
    (
        """
        CREATE TABLE unanswered (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            text TEXT NOT NULL CHECK (length(text) <= 500)
        )""",
        "CREATE INDEX unanswered_at ON unanswered (at)",
    ),
)

# Channels an alliance admin connected (/kanal_verbinden). A channel follows topics as a
# subscriber with its (negative) chat id; groups need no row of their own. Ending a chat's
# subscriptions (the bot removed, /kanal_trennen) deletes its subscriber row, and with it this.
GROUPS_CHANNELS: Final = Migration(
    "0010_groups_channels",
    (
        """
        CREATE TABLE channels (
            chat_id INTEGER PRIMARY KEY REFERENCES subscribers (chat_id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            username TEXT,
            connected_by INTEGER NOT NULL,
            connected_at TEXT NOT NULL,
            CHECK (chat_id < 0)
        )""",
    ),
)

# The LDAP member directory (storage/ldap_directory.py): the directory owns the members, the
# bot keeps only the Telegram link, keyed by the entry's stable id (entryUUID, or objectGUID
# as ``hex:…``), and gives each entry it meets a local integer id, which the dialogs use as
# their member id. ``account_flows`` is rebuilt without its foreign key to ``members``, as
# its member id is now the id in whichever directory is configured; deleting a member ends
# its dialogs explicitly (storage.members). Dialogs live minutes: the copy keeps them all.
LDAP_DIRECTORY_LINKS: Final = Migration(
    "0011_ldap_directory_links",
    (
        """
        CREATE TABLE directory_links (
            id INTEGER PRIMARY KEY,
            entry_key TEXT NOT NULL UNIQUE,
            telegram_user_id INTEGER UNIQUE,
            linked_at TEXT,
            first_seen_at TEXT NOT NULL,
            CHECK ((telegram_user_id IS NULL) = (linked_at IS NULL))
        )""",
        """
        CREATE TABLE account_flows_new (
            chat_id INTEGER PRIMARY KEY,
            nonce TEXT NOT NULL,
            purpose TEXT NOT NULL CHECK (purpose IN ('link', 'password')),
            step TEXT NOT NULL CHECK (step IN ('email', 'code', 'password')),
            member_id INTEGER,
            code_digest TEXT,
            attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 5),
            started_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            CHECK (step <> 'password' OR member_id IS NOT NULL)
        )""",
        """
        INSERT INTO account_flows_new (chat_id, nonce, purpose, step, member_id, code_digest,
            attempts, started_at, expires_at)
        SELECT chat_id, nonce, purpose, step, member_id, code_digest, attempts, started_at,
            expires_at
        FROM account_flows""",
        "DROP TABLE account_flows",
        "ALTER TABLE account_flows_new RENAME TO account_flows",
        "CREATE INDEX account_flows_member ON account_flows (member_id)",
    ),
    foreign_keys_off=True,
)

# Reminder plans still to finish: an event with many followers is planned in batches, each
# its own transaction (storage.reminders.finish_plans); the followers after `after` (chat id
# order) are not planned yet, `revive` carries a reschedule's "sent rows come back", and
# `updated_at` (real time) tells the bot that the process planning it has stopped.
PLAN_QUEUE: Final = Migration(
    "0012_engine_plan_queue",
    (
        """
        CREATE TABLE plan_queue (
            event_id TEXT PRIMARY KEY
                REFERENCES events (id) ON UPDATE CASCADE ON DELETE CASCADE,
            after INTEGER NOT NULL,
            revive INTEGER NOT NULL DEFAULT 0 CHECK (revive IN (0, 1)),
            updated_at TEXT NOT NULL
        )""",
    ),
)

# Leases on rows in flight (see storage.leases): which process claimed a row and until when,
# so that recovery never takes back the rows of a process that still runs.
LEASES: Final = Migration(
    "0013_opsb_leases",
    (
        "ALTER TABLE reminders ADD COLUMN claimed_by TEXT",
        "ALTER TABLE reminders ADD COLUMN lease_until TEXT",
        "ALTER TABLE outbox ADD COLUMN claimed_by TEXT",
        "ALTER TABLE outbox ADD COLUMN lease_until TEXT",
    ),
)

# Calendar feeds, places and "Ich komme" (issue 12).
# ``event_versions``: every event's SEQUENCE and LAST-MODIFIED for the calendar feeds; every
# write that changes an event (the admins' dialogs, ``netzwerkbot events``, an import) raises
# the sequence in the same transaction (storage.catalog). Existing events start at 0.
# ``events.latitude``/``longitude``: optional coordinates of the venue ("Auf der Karte").
# ``attendance``: who said "Ich komme" to which meeting; the first name only when the person
# chose to share it (storage.attendance is the one store that writes it).
CAL_FEEDS_PLACES_ATTENDANCE: Final = Migration(
    "0014_cal_feeds_places_attendance",
    (
        """
        CREATE TABLE event_versions (
            event_id TEXT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
            sequence INTEGER NOT NULL DEFAULT 0 CHECK (sequence >= 0),
            modified_at TEXT NOT NULL
        ) WITHOUT ROWID""",
        """
        INSERT INTO event_versions (event_id, sequence, modified_at)
        SELECT id, 0, COALESCE(created_at, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))
        FROM events""",
        """
        ALTER TABLE events ADD COLUMN latitude REAL
            CHECK (latitude IS NULL OR latitude BETWEEN -90 AND 90)""",
        """
        ALTER TABLE events ADD COLUMN longitude REAL
            CHECK (longitude IS NULL OR longitude BETWEEN -180 AND 180)""",
        """
        CREATE TABLE attendance (
            event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL CHECK (user_id > 0),
            share_name INTEGER NOT NULL DEFAULT 0 CHECK (share_name IN (0, 1)),
            first_name TEXT CHECK (share_name = 1 OR first_name IS NULL),
            at TEXT NOT NULL,
            PRIMARY KEY (event_id, user_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX attendance_user ON attendance (user_id)",
    ),
)

# Transient failures (HTTP 5xx, network errors, timeouts before the request left) put a row
# back with a growing delay instead of failing it (bot/domain/retry.py). A reminder's due_at
# belongs to planning, so its next try is a column of its own; an outbox row's next try is its
# due_at. `first_failed_at` starts an outbox row's 24 hours of patience; `gave_up_at` marks a
# row failed because that patience ran out (the circular's report counts these apart).
RETRY: Final = Migration(
    "0015_retry",
    (
        "ALTER TABLE reminders ADD COLUMN next_attempt_at TEXT",
        "ALTER TABLE outbox ADD COLUMN first_failed_at TEXT",
        "ALTER TABLE outbox ADD COLUMN gave_up_at TEXT",
        """
        CREATE INDEX reminders_retry ON reminders (next_attempt_at)
        WHERE next_attempt_at IS NOT NULL""",
    ),
)

# Mails to send (storage.mail_jobs): codes and confirmations survive a restart and are
# retried; the typed address is cleared when a row ends, ended rows go after a day.
MAIL_JOBS: Final = Migration(
    "0016_opsb_mail_jobs",
    (
        """
        CREATE TABLE mail_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('code', 'changed')),
            chat_id INTEGER NOT NULL,
            purpose TEXT,
            email TEXT,
            member_id INTEGER,
            nonce TEXT,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'skipped', 'failed', 'expired')),
            attempts INTEGER NOT NULL DEFAULT 0,
            due_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            ended_at TEXT,
            last_error TEXT
        )""",
        "CREATE INDEX mail_jobs_due ON mail_jobs (status, due_at)",
    ),
)

# Admin dialogs (/termin_neu, /rundschreiben) survive a restart (storage.drafts, written by
# PTB's persistence, bot.persistence): the state of each open conversation with its deadline,
# and the admin's user_data (the drafts) as JSON.
DRAFTS: Final = Migration(
    "0017_drafts_dialog_state",
    (
        """
        CREATE TABLE dialog_states (
            name TEXT NOT NULL,
            chat_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            state INTEGER NOT NULL,
            deadline TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (name, chat_id, user_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX dialog_states_user ON dialog_states (user_id)",
        """
        CREATE TABLE dialog_drafts (
            user_id INTEGER PRIMARY KEY,
            data TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
    ),
)

# Which fields of a meeting admins set in the chat (JSON list of names, e.g. ["start"],
# "status" after a cancellation): an import leaves them alone unless forced.
CHAT_EDITS: Final = Migration(
    "0018_edits_chat_edits",
    ("ALTER TABLE events ADD COLUMN edited_in_chat TEXT NOT NULL DEFAULT '[]'",),
)

# The cumulative limit of account recovery: wrong codes per address (by its HMAC) over 24
# hours, and the addresses that may get no code until a time. A dialog remembers the HMAC of
# the address it asked a code for, so that its wrong entries count for that address.
RECOVERY_LIMIT: Final = Migration(
    "0019_edits_recovery_limit",
    (
        "ALTER TABLE account_flows ADD COLUMN email_digest TEXT",
        """
        CREATE TABLE account_failures (
            id INTEGER PRIMARY KEY,
            email_digest TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        "CREATE INDEX account_failures_email ON account_failures (email_digest, at)",
        """
        CREATE TABLE account_locks (
            email_digest TEXT PRIMARY KEY,
            until TEXT NOT NULL
        ) WITHOUT ROWID""",
        # A third kind of mail, the notice of a paused address: the kind's CHECK is rebuilt.
        """
        CREATE TABLE mail_jobs_new (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('code', 'changed', 'locked')),
            chat_id INTEGER NOT NULL,
            purpose TEXT,
            email TEXT,
            member_id INTEGER,
            nonce TEXT,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'skipped', 'failed', 'expired')),
            attempts INTEGER NOT NULL DEFAULT 0,
            due_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            ended_at TEXT,
            last_error TEXT
        )""",
        "INSERT INTO mail_jobs_new SELECT * FROM mail_jobs",
        "DROP TABLE mail_jobs",
        "ALTER TABLE mail_jobs_new RENAME TO mail_jobs",
        "CREATE INDEX mail_jobs_due ON mail_jobs (status, due_at)",
    ),
)

MIGRATIONS: Final[tuple[Migration, ...]] = (
    CATALOG,
    SUBSCRIPTIONS,
    ADMINS,
    BROADCASTS,
    MEMBERS,
    STATS,
    UNANSWERED,
    GROUPS_CHANNELS,
    LDAP_DIRECTORY_LINKS,
    PLAN_QUEUE,
    LEASES,
    CAL_FEEDS_PLACES_ATTENDANCE,
    RETRY,
    MAIL_JOBS,
    DRAFTS,
    CHAT_EDITS,
    RECOVERY_LIMIT,
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def applied_migrations(db: Database) -> list[str]:
    """Return the names of the applied migrations in the order they were applied."""
    await db.execute(SQL_CREATE_BOOKKEEPING)
    return [str(row["name"]) for row in await db.fetchall(SQL_APPLIED)]


async def migrate(
    db: Database,
    migrations: Sequence[Migration] = MIGRATIONS,
    *,
    now: Callable[[], datetime] = _utc_now,
) -> list[str]:
    """Apply the missing migrations in order and return their names.

    Raises:
        SchemaError: the database records a migration that ``migrations`` lacks
            (it was written by a newer version of the bot).
    """
    names = [m.name for m in migrations]
    if len(set(names)) != len(names):
        raise ValueError(f"migration names must be unique: {names}")
    async with db.transaction():
        applied = await applied_migrations(db)
    unknown = [name for name in applied if name not in names]
    if unknown:
        raise SchemaError(
            f"the database {db.path} has migrations this version does not know: "
            f"{', '.join(unknown)} (written by a newer netzwerkbot?)"
        )
    done: list[str] = []
    for migration in migrations:
        if migration.name in applied:
            continue
        if await _apply(db, migration, now):
            done.append(migration.name)
    return done


async def _apply(db: Database, migration: Migration, now: Callable[[], datetime]) -> bool:
    """Apply one migration with its bookkeeping row; False if another process was first."""
    if migration.foreign_keys_off:
        await db.execute(SQL_FOREIGN_KEYS_OFF)
    try:
        async with db.transaction():
            # Re-check under the write lock: another process may have migrated meanwhile.
            if await db.fetchone(SQL_IS_APPLIED, (migration.name,)) is not None:
                return False
            for statement in migration.statements:
                await db.execute(statement)
            if migration.foreign_keys_off and await db.fetchall(SQL_FOREIGN_KEY_CHECK):
                raise SchemaError(f"migration {migration.name} breaks foreign keys")
            await db.execute(SQL_RECORD, (migration.name, now().isoformat()))
    finally:
        if migration.foreign_keys_off:
            await db.execute(SQL_FOREIGN_KEYS_ON)
    return True
