"""Account logic without Telegram or SQL: codes, HMACs, the password policy, masking.

Codes are six digits from :mod:`secrets`, valid ten minutes, used once; the database keeps
only an HMAC-SHA256 of each, keyed with ``NETZWERKBOT_SECRET_KEY`` or, when that is unset,
with a random key in a file beside the database (mode 0600, created atomically). The HMAC
binds the code to its chat and purpose, and e-mail addresses are counted for the rate limit
by their HMAC too, so the database never holds a code or an address someone merely typed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Final

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

FEATURE_ACCOUNT: Final = "account"
# Callback data of the account buttons ("<feature>:<action>").
CODE_DIGITS: Final = 6
CODE_TTL: Final = timedelta(minutes=10)
MAX_CODE_ATTEMPTS: Final = 5
REQUEST_WINDOW: Final = timedelta(hours=1)
MAX_REQUESTS: Final = 3  # per window, per normalised address and per chat
# On top: wrong codes for one address, counted over all chats and codes. Reaching the limit
# stops codes for the address for LOCK_TTL, and its member gets one mail about it.
FAILURE_WINDOW: Final = timedelta(hours=24)
MAX_FAILURES: Final = 10
LOCK_TTL: Final = timedelta(hours=24)
# How long a person may take for each step of a dialog (the e-mail, the new password).
STEP_TTL: Final = timedelta(minutes=10)
MIN_PASSWORD_LENGTH: Final = 12
MAX_EMAIL_LENGTH: Final = 254
KEY_BYTES: Final = 32
KEY_FILE_SUFFIX: Final = ".key"
COMMON_PASSWORDS: Final = "common-passwords.txt"

EMAIL: Final = re.compile(r"^[^@\s<>\"',;:()\[\]]+@[^@\s<>\"',;:()\[\]]+\.[^@\s<>\"',;:()\[\]]+$")
CODE_INPUT: Final = re.compile(r"^\d{3}[\s-]?\d{3}$")
TRAILING_NOISE: Final = re.compile(r"[\d\W_]+$")


class Purpose(StrEnum):
    """What a code proves the mailbox for; values live in the database."""

    LINK = "link"
    PASSWORD = "password"  # noqa: S105 - a purpose, not a password


class PasswordProblem(StrEnum):
    """Why a new password is refused."""

    TOO_SHORT = "too_short"
    IS_EMAIL = "is_email"
    COMMON = "common"


@dataclass(frozen=True, slots=True)
class HashCost:
    """Cost of new argon2id hashes; the defaults are the library's (RFC 9106, low memory)."""

    time_cost: int = argon2.DEFAULT_TIME_COST
    memory_cost: int = argon2.DEFAULT_MEMORY_COST  # KiB
    parallelism: int = argon2.DEFAULT_PARALLELISM


# For tests only: fast enough that an end-to-end test can change passwords freely.
LIGHT_HASH_COST: Final = HashCost(time_cost=1, memory_cost=8, parallelism=1)


def normalize_email(raw: str) -> str | None:
    """Return the address in the form it is stored and counted in, or None if it is none."""
    text = unicodedata.normalize("NFC", raw).strip()
    text = text.removeprefix("mailto:").strip().strip("<>").strip()
    if len(text) > MAX_EMAIL_LENGTH or not EMAIL.fullmatch(text):
        return None
    return text.lower()


def mask_email(email: str) -> str:
    """Return the address with its local part hidden: "e…@example.org"."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


def generate_code() -> str:
    """Return a new six-digit code from the operating system's random source."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def parse_code(text: str) -> str | None:
    """Return the six digits someone typed ("123456", "123 456"), or None for anything else."""
    text = text.strip()
    if not CODE_INPUT.fullmatch(text):
        return None
    return re.sub(r"\D", "", text)


def normalize_password(password: str) -> str:
    """Return the password in Unicode NFKC, as NIST SP 800-63B advises before hashing."""
    return unicodedata.normalize("NFKC", password)


@cache
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords, lower-case."""
    text = resources.files("bot").joinpath("data", COMMON_PASSWORDS).read_text(encoding="utf-8")
    return frozenset(
        line.strip().casefold() for line in text.splitlines() if line and not line.startswith("#")
    )


def check_password(
    password: str, email: str, common: frozenset[str] | None = None
) -> PasswordProblem | None:
    """Return why a new password is refused, or None if it is acceptable.

    Refused: fewer than 12 characters, the e-mail address (or its local part), a password
    from the shipped list, also with digits and punctuation stripped from its end
    ("Passwort2024!" is "passwort"), or one character repeated.
    """
    password = normalize_password(password)
    if len(password) < MIN_PASSWORD_LENGTH:
        return PasswordProblem.TOO_SHORT
    folded = password.casefold()
    local = email.casefold().partition("@")[0]
    if folded in {email.casefold(), local} or TRAILING_NOISE.sub("", folded) == local:
        return PasswordProblem.IS_EMAIL
    common = common_passwords() if common is None else common
    core = TRAILING_NOISE.sub("", folded)
    if folded in common or core in common or len(set(folded)) == 1:
        return PasswordProblem.COMMON
    return None


class Passwords:
    """Hashes and verifies passwords with argon2id; only the hash is ever stored."""

    def __init__(self, cost: HashCost | None = None) -> None:
        cost = cost or HashCost()
        self._hasher = argon2.PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_cost,
            parallelism=cost.parallelism,
            type=argon2.Type.ID,
        )

    def hash(self, password: str) -> str:
        """Return the argon2id hash of a password (slow on purpose: run it in a thread)."""
        return self._hasher.hash(normalize_password(password))

    def verify(self, stored: str | None, password: str) -> bool:
        """Tell whether a password matches a stored hash (False without a hash)."""
        if not stored:
            return False
        try:
            return self._hasher.verify(stored, normalize_password(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


@dataclass(frozen=True)
class Keyring:
    """The secret key and what is computed with it; the key itself is never shown."""

    key: bytes = field(repr=False)

    def _mac(self, *parts: str) -> str:
        message = "\x00".join(parts).encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def code_digest(self, chat_id: int, purpose: Purpose, code: str) -> str:
        """Return the HMAC stored for a code, bound to its chat and purpose."""
        return self._mac("code", str(chat_id), purpose.value, code)

    def email_digest(self, email: str) -> str:
        """Return the HMAC by which a normalised address is counted for the rate limit."""
        return self._mac("email", email)

    def code_matches(self, stored: str | None, chat_id: int, purpose: Purpose, code: str) -> bool:
        """Compare a typed code with the stored HMAC in constant time (False without one)."""
        digest = self.code_digest(chat_id, purpose, code)
        # No stored code (an unknown address): compare anyway, so both take the same time.
        return hmac.compare_digest(digest, stored or "0" * len(digest)) and stored is not None


class InsecureKeyFileError(Exception):
    """The key file can be read or written by others than its owner; start-up stops."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"the key file {path} is readable by others; run chmod 600 on it")
        self.path = path


def key_file_for(database: Path) -> Path:
    """Return where the generated key lives: beside the database."""
    return database.with_name(database.name + KEY_FILE_SUFFIX)


def load_key(secret_key: str | None, database: Path) -> bytes:
    """Return the HMAC key: the configured one, else the key file (created on first use)."""
    if secret_key:
        return secret_key.encode()
    if str(database) == ":memory:":
        return secrets.token_bytes(KEY_BYTES)  # nothing outlives an in-memory database
    return load_or_create_key_file(key_file_for(database))


def load_or_create_key_file(path: Path) -> bytes:
    """Read the key file, or create it atomically with mode 0600 if it does not exist.

    The key is written to a private temporary file and hard-linked into place; a link never
    replaces an existing file, so of two processes starting at once both use the first key.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as file:
                file.write(secrets.token_hex(KEY_BYTES) + "\n")
                file.flush()
                os.fsync(file.fileno())
            with contextlib.suppress(FileExistsError):  # another process was first: use its key
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        # Whoever reads the key can forge the HMACs over codes: refuse to start with it.
        raise InsecureKeyFileError(path)
    key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    if len(key) < KEY_BYTES:
        raise ValueError(f"the key file {path} holds fewer than {KEY_BYTES} bytes")
    return key
