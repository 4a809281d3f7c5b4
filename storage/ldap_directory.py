"""The member directory on an LDAP server (OpenLDAP, 389-DS, …): ``NETZWERKBOT_DIRECTORY=ldap``.

The directory owns the members and their passwords; the bot only reads entries and asks the
server to change or check a password:

- ``find``/``get``/``linked_to`` search under the base DN with a service account, always
  combined with the configured *active filter*, so a member who left (an entry that no longer
  matches) is unknown from the next use on: the rule is checked at every use, never cached.
- ``set_password`` is the Password Modify extended operation (RFC 3062): the server hashes
  the password with its own scheme and applies its own policy (OpenLDAP's ppolicy: minimum
  length, history). A refusal arrives as :class:`~storage.members.PasswordRefused` with the
  reason from the ppolicy response control. Active Directory has no Password Modify: with
  ``password_mode="ad-unicodepwd"`` the password is a modify (replace) of ``unicodePwd``
  with the password in double quotes, UTF-16-LE encoded, only ever over TLS; AD's policy
  refusals (``0000052D``: length, complexity, history) become ``PasswordRefused`` too.
  ``check_password`` is a simple bind as the entry in both modes. The bot stores no password
  and no hash.
- The Telegram link stays in the bot's database, in ``directory_links``, keyed by the entry's
  stable id (``entryUUID``; configurable). Each entry gets a local integer id there the first
  time it is found, so the rest of the bot (dialogs, codes) keeps its integer member ids.

ldap3 is synchronous: every call runs in a small thread pool of its own, on a fresh connection
(TLS, service bind, operation, unbind) with connect and receive timeouts, and an overall
deadline on the awaiting side. A connection or service-bind failure is logged (the error's
kind, never a DN, an address or a password) and raised as
:class:`~storage.members.DirectoryUnavailable`. Filter values are escaped (RFC 4515).
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar
from urllib.parse import urlsplit

from ldap3 import MODIFY_REPLACE, NONE, SIMPLE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException

from bot.domain.net import is_loopback
from storage.codecs import parse_utc, utc_text
from storage.members import (
    DirectoryUnavailable,
    Member,
    PasswordRefusal,
    PasswordRefused,
    UnknownMember,
)

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable
    from pathlib import Path

    from storage.db import Database

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT: Final = 10.0
MAX_WORKERS: Final = 4
# The ppolicy request/response control (draft-behera-ldap-password-policy).
PPOLICY_OID: Final = "1.3.6.1.4.1.42.2.27.8.5.1"
PPOLICY_ERRORS: Final[dict[int, PasswordRefusal]] = {
    5: PasswordRefusal.QUALITY,  # insufficientPasswordQuality
    6: PasswordRefusal.TOO_SHORT,  # passwordTooShort
    7: PasswordRefusal.TOO_YOUNG,  # passwordTooYoung
    8: PasswordRefusal.IN_HISTORY,  # passwordInHistory
}
RESULT_SUCCESS: Final = 0
RESULT_SIZE_LIMIT: Final = 4
RESULT_CONSTRAINT_VIOLATION: Final = 19
RESULT_INVALID_CREDENTIALS: Final = 49
RESULT_UNWILLING: Final = 53
PasswordMode = Literal["modify-password", "ad-unicodepwd"]
AD_UNICODEPWD: Final[PasswordMode] = "ad-unicodepwd"
PASSWORD_MODES: Final[tuple[PasswordMode, ...]] = ("modify-password", AD_UNICODEPWD)
# Active Directory: the password attribute, and the Win32 error in a diagnostic message that
# means "the password does not meet the policy" (ERROR_PASSWORD_RESTRICTION: length,
# complexity, history, minimum age).
AD_PASSWORD_ATTRIBUTE: Final = "unicodePwd"  # noqa: S105 - an attribute name
AD_POLICY_ERROR: Final = "0000052D"
# LDAP_SERVER_POLICY_HINTS (Windows Server 2012 R2 and later): a reset by the service account
# then obeys the password history as a member's own change does. Value: SEQUENCE { INTEGER 1 }.
# Not critical, so older DCs (and other servers) ignore it.
AD_POLICY_HINTS_OID: Final = "1.2.840.113556.1.4.2239"
AD_POLICY_HINTS_VALUE: Final = b"\x30\x03\x02\x01\x01"

SQL_LINK_COLUMNS: Final = "id, entry_key, telegram_user_id, linked_at"
SQL_LINK_BY_ID: Final = f"SELECT {SQL_LINK_COLUMNS} FROM directory_links WHERE id = ?"  # noqa: S608
SQL_LINK_BY_KEY: Final = f"SELECT {SQL_LINK_COLUMNS} FROM directory_links WHERE entry_key = ?"  # noqa: S608
SQL_LINK_BY_USER: Final = (
    f"SELECT {SQL_LINK_COLUMNS} FROM directory_links WHERE telegram_user_id = ?"  # noqa: S608
)
SQL_ADD_KEY: Final = """
INSERT INTO directory_links (entry_key, first_seen_at) VALUES (?, ?)
ON CONFLICT (entry_key) DO NOTHING"""
SQL_UNLINK_USER: Final = """
UPDATE directory_links SET telegram_user_id = NULL, linked_at = NULL
WHERE telegram_user_id = ?"""
SQL_UNLINK_ENTRY: Final = (
    "UPDATE directory_links SET telegram_user_id = NULL, linked_at = NULL WHERE id = ?"
)
SQL_LINK: Final = "UPDATE directory_links SET telegram_user_id = ?, linked_at = ? WHERE id = ?"


class LdapConfigError(ValueError):
    """A setting of the LDAP directory is malformed (checked at start-up)."""


@dataclass(frozen=True)
class LdapOptions:
    """How to reach the directory and how its entries map onto members."""

    url: str
    bind_dn: str
    bind_password: str = field(repr=False)  # never printed
    base_dn: str
    mail_attribute: str = "mail"
    name_attribute: str = "cn"
    network_attribute: str = "ou"
    id_attribute: str = "entryUUID"
    active_filter: str = "(objectClass=inetOrgPerson)"
    timeout: float = DEFAULT_TIMEOUT
    # CA certificates for a private CA; None: the system's trust store.
    ca_file: Path | None = None
    # StartTLS on an ldap:// URL; None: yes, except on a loopback address (see parse_url).
    starttls: bool | None = None
    # How a password is set: RFC 3062 Password Modify, or Active Directory's unicodePwd.
    password_mode: PasswordMode = "modify-password"  # noqa: S105 - a mode, not a password


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the server is and how the connection is secured."""

    host: str
    port: int
    security: str  # "ldaps", "starttls" or "plain" (only on loopback)


@dataclass(frozen=True, slots=True)
class Entry:
    """The parts of a directory entry the bot uses."""

    dn: str
    key: str
    email: str
    name: str
    network: str | None


async def unlink_chat(db: Database, chat_id: int) -> int:
    """Remove a Telegram user's link to a directory entry, inside the caller's transaction."""
    return await db.execute(
        "UPDATE directory_links SET telegram_user_id = NULL, linked_at = NULL "
        "WHERE telegram_user_id = ?",
        (chat_id,),
    )


def parse_url(url: str, starttls: bool | None = None) -> Endpoint:
    """Return the endpoint of an ``ldaps://`` or ``ldap://`` URL.

    ``ldap://`` means StartTLS, except on a loopback address, where it is plain (a directory
    on the same machine, or the tests' slapd) unless ``starttls`` is True. ``starttls`` False
    (plain) is accepted only on a loopback address, and ``starttls`` is not for ``ldaps://``.

    Raises:
        LdapConfigError: not such a URL, or a ``starttls`` that does not fit it.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"ldap", "ldaps"} or not parts.hostname:
        raise LdapConfigError(url)
    if parts.path not in {"", "/"} or parts.query or parts.fragment or parts.username:
        raise LdapConfigError(url)
    try:
        port = parts.port or (636 if parts.scheme == "ldaps" else 389)
    except ValueError:
        raise LdapConfigError(url) from None
    host = parts.hostname
    if parts.scheme == "ldaps":
        if starttls is not None:
            raise LdapConfigError("StartTLS inside ldaps")
        return Endpoint(host, port, "ldaps")
    if starttls is None:
        starttls = not is_loopback(host)
    if not starttls and not is_loopback(host):
        raise LdapConfigError("plain LDAP beyond loopback")
    return Endpoint(host, port, "starttls" if starttls else "plain")


def check_filter(text: str) -> str:
    """Return an LDAP filter if it is one complete parenthesised filter.

    Raises:
        LdapConfigError: unbalanced parentheses, or not a single filter.
    """
    text = text.strip()
    depth = 0
    escaped = False
    for position, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0 or (depth == 0 and position != len(text) - 1):
                raise LdapConfigError(text)
    if not text.startswith("(") or depth != 0 or len(text) < 3:
        raise LdapConfigError(text)
    return text


def escape_filter_value(value: str) -> str:
    """Escape a value for an LDAP filter (RFC 4515): ``*``, ``(``, ``)``, ``\\`` and NUL."""
    out = []
    for char in value:
        if char in "*()\\\x00":
            out.append(f"\\{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def escape_bytes(value: bytes) -> str:
    """Escape every byte of a value (RFC 4515), for binary ids such as AD's objectGUID."""
    return "".join(f"\\{byte:02x}" for byte in value)


def entry_key(raw: bytes) -> str:
    """Return how an entry's id is stored: as text if printable ASCII, else ``hex:…``."""
    if raw.isascii() and raw.decode("ascii").isprintable() and not raw.startswith(b"hex:"):
        return raw.decode("ascii")
    return "hex:" + raw.hex()


def key_bytes(key: str) -> bytes:
    """Return the raw id of a stored key (the inverse of :func:`entry_key`)."""
    if key.startswith("hex:"):
        return bytes.fromhex(key[4:])
    return key.encode("ascii")


def ppolicy_error(value: bytes | None) -> int | None:
    """Return the error of a ppolicy response control's value, or None.

    The value is ``SEQUENCE { warning [0] … OPTIONAL, error [1] ENUMERATED OPTIONAL }`` in
    BER; only the short definite lengths that servers send are read.
    """
    if not value or len(value) < 2 or value[0] != 0x30:
        return None
    position, end = 2, min(len(value), 2 + value[1])
    while position + 2 <= end:
        tag, length = value[position], value[position + 1]
        body = value[position + 2 : position + 2 + length]
        if tag == 0x81 and length >= 1:  # [1] error, primitive
            return int.from_bytes(body, "big")
        position += 2 + length
    return None


class LdapDirectory:
    """The member directory on an LDAP server; links in the bot's database."""

    def __init__(self, db: Database, options: LdapOptions) -> None:
        self._db = db
        self._options = options
        self._endpoint = parse_url(options.url, options.starttls)
        if options.password_mode not in PASSWORD_MODES:
            raise LdapConfigError(options.password_mode)
        if options.password_mode == AD_UNICODEPWD and self._endpoint.security == "plain":
            # AD refuses unicodePwd without encryption; and a password never goes in clear.
            raise LdapConfigError("ad-unicodepwd needs TLS")
        self._active = check_filter(options.active_filter)
        # One TLS context for every connection: the CA file is read once, at start-up.
        self._tls = (
            None
            if self._endpoint.security == "plain"
            else CheckedTls(self._endpoint.host, tls_context(options.ca_file))
        )
        self._executor = ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="ldap")

    def close(self) -> None:
        """Stop the thread pool (calls still running finish within their timeouts)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    # --- the MemberDirectory protocol ----------------------------------------------------

    async def check_available(self) -> None:
        """Bind with the service account; raise DirectoryUnavailable if that fails."""
        await self._call(self._probe)

    async def find(self, email: str) -> Member | None:
        """Return the active member with this (normalised) address, if exactly one has it."""
        entry = await self._call(self._search_one, self._by_mail(email))
        if entry is None:
            return None
        async with self._db.transaction():
            await self._db.execute(SQL_ADD_KEY, (entry.key, utc_text(datetime.now(UTC))))
            row = await self._db.fetchone(SQL_LINK_BY_KEY, (entry.key,))
        assert row is not None  # noqa: S101 - inserted or present in this transaction
        return _member(entry, row)

    async def get(self, member_id: int) -> Member | None:
        """Return a member by the bot's id if its entry exists and is active."""
        row = await self._db.fetchone(SQL_LINK_BY_ID, (member_id,))
        if row is None:
            return None
        entry = await self._call(self._search_one, self._by_key(str(row["entry_key"])))
        return None if entry is None else _member(entry, row)

    async def linked_to(self, user_id: int) -> Member | None:
        """Return the active member linked to a Telegram user, if any."""
        row = await self._db.fetchone(SQL_LINK_BY_USER, (user_id,))
        if row is None:
            return None
        entry = await self._call(self._search_one, self._by_key(str(row["entry_key"])))
        return None if entry is None else _member(entry, row)

    async def link(self, member_id: int, user_id: int, *, now: datetime) -> None:
        """Link a Telegram user to an active member, moving earlier links of either."""
        if await self.get(member_id) is None:
            raise UnknownMember(str(member_id))
        async with self._db.transaction():
            await self._db.execute(SQL_UNLINK_USER, (user_id,))
            await self._db.execute(SQL_UNLINK_ENTRY, (member_id,))
            if await self._db.execute(SQL_LINK, (user_id, utc_text(now), member_id)) != 1:
                raise UnknownMember(str(member_id))

    async def unlink(self, user_id: int, *, now: datetime) -> bool:
        """Remove a Telegram user's link; False if there was none."""
        async with self._db.transaction():
            return await self._db.execute(SQL_UNLINK_USER, (user_id,)) > 0

    async def set_password(self, member_id: int, password: str, *, now: datetime) -> None:
        """Have the server set (and hash) the password of an active member's entry.

        Raises:
            UnknownMember: no such member, or its entry is gone or not active.
            PasswordRefused: the server's password policy refused it.
            DirectoryUnavailable: the server cannot be reached or refused the service account.
        """
        row = await self._db.fetchone(SQL_LINK_BY_ID, (member_id,))
        if row is None:
            raise UnknownMember(str(member_id))
        change = (
            self._modify_unicode_pwd
            if self._options.password_mode == AD_UNICODEPWD
            else self._modify_password
        )
        await self._call(change, self._by_key(str(row["entry_key"])), password)

    async def check_password(self, email: str, password: str) -> bool:
        """Tell whether a bind as the active member with this address succeeds."""
        if not password:  # an empty password would be an unauthenticated bind: never
            return False
        return await self._call(self._bind_as, self._by_mail(email), password)

    # --- filters ---------------------------------------------------------------------------

    def _by_mail(self, email: str) -> str:
        attribute = self._options.mail_attribute
        return f"(&{self._active}({attribute}={escape_filter_value(email)}))"

    def _by_key(self, key: str) -> str:
        attribute = self._options.id_attribute
        return f"(&{self._active}({attribute}={escape_bytes(key_bytes(key))}))"

    # --- the blocking part, run in the pool -------------------------------------------------

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking LDAP function in the pool, within an overall deadline."""
        loop = asyncio.get_running_loop()
        # Connect, TLS, bind and the operation each have the timeout; a margin on top.
        deadline = self._options.timeout * 4
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(self._executor, partial(function, *args)), deadline
            )
        except TimeoutError:
            log.warning("The LDAP directory did not answer within %.0f seconds", deadline)
            raise DirectoryUnavailable("timeout") from None
        except RuntimeError as error:  # the pool was shut down: the bot is stopping
            raise DirectoryUnavailable("stopped") from error

    def _connection(self, user: str | None = None, password: str | None = None) -> Connection:
        """Open a connection (TLS as configured) and bind; raise DirectoryUnavailable."""
        options, endpoint = self._options, self._endpoint
        server = Server(
            endpoint.host,
            port=endpoint.port,
            use_ssl=endpoint.security == "ldaps",
            tls=self._tls,
            get_info=NONE,
            connect_timeout=options.timeout,
        )
        connection = Connection(
            server,
            user=options.bind_dn if user is None else user,
            password=options.bind_password if user is None else password,
            authentication=SIMPLE,
            auto_bind=False,
            raise_exceptions=False,
            # ldap3 packs it into SO_RCVTIMEO as whole seconds.
            receive_timeout=max(1, math.ceil(options.timeout)),
            auto_escape=False,
            auto_referrals=False,
        )
        try:
            connection.open()
            if endpoint.security == "starttls" and not connection.start_tls():
                raise DirectoryUnavailable("StartTLS failed")
            bound = connection.bind()
        except LDAPException as error:
            _close(connection)
            if "certificate" in str(error).lower():
                # Never retried without TLS: the operator has to fix the trust.
                log.error(
                    "The LDAP server's TLS certificate was not accepted (%s); "
                    "check NETZWERKBOT_LDAP_CA_FILE and the host name in NETZWERKBOT_LDAP_URL",
                    type(error).__name__,
                )
            else:
                log.warning("The LDAP directory is unreachable (%s)", type(error).__name__)
            raise DirectoryUnavailable(type(error).__name__) from None
        except DirectoryUnavailable:
            _close(connection)
            log.warning("The LDAP directory refused StartTLS")
            raise
        if not bound:
            code = connection.result.get("result")
            _close(connection)
            if user is not None and code == RESULT_INVALID_CREDENTIALS:
                raise _WrongPassword
            log.error("The LDAP service account could not bind (result %s)", code)
            raise DirectoryUnavailable(f"bind result {code}")
        return connection

    def _probe(self) -> None:
        _close(self._connection())

    def _search_one(self, search_filter: str) -> Entry | None:
        connection = self._connection()
        try:
            return self._search_in(connection, search_filter)
        finally:
            _close(connection)

    def _search_in(self, connection: Connection, search_filter: str) -> Entry | None:
        options = self._options
        attributes = [
            options.mail_attribute,
            options.name_attribute,
            options.network_attribute,
            options.id_attribute,
        ]
        try:
            connection.search(
                options.base_dn,
                search_filter,
                search_scope=SUBTREE,
                attributes=attributes,
                size_limit=2,
                time_limit=max(1, int(options.timeout)),
            )
        except LDAPException as error:
            log.warning("An LDAP search failed (%s)", type(error).__name__)
            raise DirectoryUnavailable(type(error).__name__) from None
        code = connection.result.get("result")
        if code not in {RESULT_SUCCESS, RESULT_SIZE_LIMIT}:
            log.error("An LDAP search failed (result %s)", code)
            raise DirectoryUnavailable(f"search result {code}")
        found = [r for r in connection.response or () if r.get("type") == "searchResEntry"]
        if len(found) != 1:
            if found:
                log.warning("Several active LDAP entries match one address; none is used")
            return None
        return self._entry(found[0])

    def _entry(self, response: dict[str, Any]) -> Entry | None:
        options = self._options
        raw = response.get("raw_attributes") or {}

        def first(attribute: str) -> bytes | None:
            values = raw.get(attribute) or []
            return bytes(values[0]) if values else None

        key, mail, name = (
            first(options.id_attribute),
            first(options.mail_attribute),
            first(options.name_attribute),
        )
        if key is None or mail is None:
            log.warning("An LDAP entry lacks its id or address attribute; it is ignored")
            return None
        network = first(options.network_attribute)
        email = mail.decode("utf-8", "replace").strip().lower()
        return Entry(
            dn=str(response["dn"]),
            key=entry_key(key),
            email=email,
            name=(name or mail).decode("utf-8", "replace").strip(),
            network=network.decode("utf-8", "replace").strip() or None if network else None,
        )

    def _modify_password(self, search_filter: str, password: str) -> None:
        connection = self._connection()
        try:
            entry = self._search_in(connection, search_filter)
            if entry is None:
                raise UnknownMember("not active")
            try:
                connection.extend.standard.modify_password(
                    user=entry.dn,
                    new_password=password,
                    controls=[(PPOLICY_OID, False, None)],
                )
            except LDAPException as error:
                log.warning("An LDAP password change failed (%s)", type(error).__name__)
                raise DirectoryUnavailable(type(error).__name__) from None
            result = connection.result
        finally:
            _close(connection)
        code = result.get("result")
        if code == RESULT_SUCCESS:
            return
        control = (result.get("controls") or {}).get(PPOLICY_OID) or {}
        policy = ppolicy_error(control.get("value"))
        if code == RESULT_CONSTRAINT_VIOLATION or (code == RESULT_UNWILLING and policy):
            reason = PPOLICY_ERRORS.get(policy or -1, PasswordRefusal.OTHER)
            log.info("The LDAP server's password policy refused a new password (%s)", reason)
            raise PasswordRefused(reason)
        log.error("The LDAP server did not change a password (result %s)", code)
        raise DirectoryUnavailable(f"password modify result {code}")

    def _modify_unicode_pwd(self, search_filter: str, password: str) -> None:
        """Set an Active Directory password: replace ``unicodePwd`` (a reset, over TLS)."""
        connection = self._connection()
        try:
            entry = self._search_in(connection, search_filter)
            if entry is None:
                raise UnknownMember("not active")
            try:
                connection.modify(
                    entry.dn,
                    {AD_PASSWORD_ATTRIBUTE: [(MODIFY_REPLACE, [unicode_pwd(password)])]},
                    controls=[(AD_POLICY_HINTS_OID, False, AD_POLICY_HINTS_VALUE)],
                )
            except LDAPException as error:
                log.warning("An LDAP password change failed (%s)", type(error).__name__)
                raise DirectoryUnavailable(type(error).__name__) from None
            result = connection.result
        finally:
            _close(connection)
        code = result.get("result")
        if code == RESULT_SUCCESS:
            return
        reason = ad_refusal(code, str(result.get("message") or ""))
        if reason is not None:
            log.info("The directory's password policy refused a new password (%s)", reason)
            raise PasswordRefused(reason)
        # AD's message is a Win32 code and a DSID; the code alone says what went wrong.
        log.error(
            "The LDAP server did not change a password (result %s, %s)",
            code,
            str(result.get("message") or "")[:8] or "no message",
        )
        raise DirectoryUnavailable(f"unicodePwd modify result {code}")

    def _bind_as(self, search_filter: str, password: str) -> bool:
        entry = self._search_one(search_filter)
        if entry is None:
            return False
        try:
            _close(self._connection(entry.dn, password))
        except _WrongPassword:
            return False
        return True


def unicode_pwd(password: str) -> bytes:
    """Return a password as Active Directory's ``unicodePwd`` takes it: quoted, UTF-16-LE."""
    return f'"{password}"'.encode("utf-16-le")


def ad_refusal(code: object, message: str) -> PasswordRefusal | None:
    """Tell whether a failed ``unicodePwd`` modify is a policy refusal, and which.

    AD answers a password its policy refuses with constraintViolation (19), some versions
    with unwillingToPerform (53), and a diagnostic message beginning ``0000052D:``. Any other
    constraintViolation on the password is a refusal without a reason; anything else is not a
    refusal (an unwillingToPerform without 52D is, for example, a connection without TLS or a
    service account without the right to reset passwords).
    """
    if code in {RESULT_CONSTRAINT_VIOLATION, RESULT_UNWILLING} and (
        message.upper().startswith(AD_POLICY_ERROR)
    ):
        return PasswordRefusal.POLICY
    if code == RESULT_CONSTRAINT_VIOLATION:
        return PasswordRefusal.OTHER
    return None


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Return the client TLS context: the CA file's certificates, or the system's.

    Raises:
        LdapConfigError: the file holds no CA certificate in PEM format, or cannot be read.
    """
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (ssl.SSLError, OSError, ValueError) as error:
        raise LdapConfigError(type(error).__name__) from None


class CheckedTls(Tls):  # type: ignore[misc] # ldap3 has no type hints
    """ldap3's TLS settings, with the standard library's own certificate check.

    ldap3 2.9.1 (its last release) switches off the context's host name check and matches
    names itself with ``ssl.match_hostname``, deprecated since Python 3.7 and gone in 3.12.
    Here :func:`ssl.create_default_context` does it all: the chain against the CA file (or
    the system's CAs), the host name or IP address, TLS 1.2 at least. A failure raises
    during the handshake, and ldap3 turns it into an exception: never a plain fallback.
    """

    def __init__(self, host: str, context: ssl.SSLContext) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED)
        self._host = host
        self._context = context

    def wrap_socket(self, connection: Connection, do_handshake: bool = False) -> None:
        """Wrap the connection's socket in TLS (for ldaps:// and for StartTLS)."""
        connection.socket = self._context.wrap_socket(
            connection.socket,
            server_side=False,
            do_handshake_on_connect=do_handshake,
            server_hostname=self._host,
        )


class _WrongPassword(Exception):
    """A bind as a member failed with invalid credentials."""


def _close(connection: Connection) -> None:
    try:
        connection.unbind()
    except LDAPException:
        log.debug("Closing an LDAP connection failed", exc_info=True)
    # ldap3 leaves the socket of a failed connect open; close it here.
    sock = getattr(connection, "socket", None)
    if isinstance(sock, socket.socket):
        sock.close()


def _member(entry: Entry, row: sqlite3.Row) -> Member:
    linked_at = row["linked_at"]
    return Member(
        id=int(row["id"]),
        email=entry.email,
        name=entry.name,
        network=entry.network,
        status="active",
        has_password=None,
        password_changed_at=None,
        telegram_user_id=None if row["telegram_user_id"] is None else int(row["telegram_user_id"]),
        linked_at=None if linked_at is None else parse_utc(str(linked_at)),
        created_at=None,
        updated_at=None,
    )
