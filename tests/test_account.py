"""Account logic without Telegram: addresses, codes, the password policy, keys, settings, logs."""

from __future__ import annotations

import logging
import os
import stat
import threading
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ConfigError, Settings
from bot.delivery.mail import Mail, build_message
from bot.domain.account import (
    LIGHT_HASH_COST,
    InsecureKeyFileError,
    Keyring,
    PasswordProblem,
    Passwords,
    Purpose,
    check_password,
    common_passwords,
    generate_code,
    key_file_for,
    load_key,
    load_or_create_key_file,
    mask_email,
    normalize_email,
    parse_code,
)
from bot.logs import protect_secrets

if TYPE_CHECKING:
    from pathlib import Path

EMAIL = "erika.muster@example.org"
SMTP = {"NETZWERKBOT_SMTP_HOST": "mail.example.org", "NETZWERKBOT_SMTP_FROM": "bot@example.org"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Erika.Muster@Example.ORG", EMAIL),
        ("  <erika.muster@example.org> ", EMAIL),
        ("mailto:erika.muster@example.org", EMAIL),
        ("erika muster@example.org", None),
        ("erika@localhost", None),
        ("keine adresse", None),
        ("a@b@example.org", None),
        ("x" * 250 + "@example.org", None),
    ],
)
def test_normalize_email(raw: str, expected: str | None) -> None:
    """Addresses are trimmed and lower-cased; anything else is None."""
    assert normalize_email(raw) == expected


def test_mask_email() -> None:
    """Only the first letter of the local part stays visible."""
    assert mask_email(EMAIL) == "e…@example.org"


def test_codes_have_six_digits_and_vary() -> None:
    """Codes are six digits, leading zeros kept, and not all alike."""
    codes = {generate_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 190


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("123456", "123456"), (" 012 345 ", "012345"), ("123-456", "123456"), ("12345", None)],
)
def test_parse_code(typed: str, expected: str | None) -> None:
    """A code may be typed with a space or hyphen in the middle."""
    assert parse_code(typed) == expected


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("kurz", PasswordProblem.TOO_SHORT),
        ("elf Zeichen", PasswordProblem.TOO_SHORT),
        (EMAIL.upper(), PasswordProblem.IS_EMAIL),
        ("erika.muster2024!", PasswordProblem.IS_EMAIL),
        ("passwort1234", PasswordProblem.COMMON),
        ("Sonnenschein2025!!", PasswordProblem.COMMON),
        ("qwertzuiopü", PasswordProblem.TOO_SHORT),
        ("aaaaaaaaaaaaaa", PasswordProblem.COMMON),
        ("Brombeerhecke-Neckarufer-73", None),
        ("zwölf Zeichen", None),
    ],
)
def test_password_policy(password: str, problem: PasswordProblem | None) -> None:
    """At least 12 characters, not the address, not common."""
    assert check_password(password, EMAIL) == problem


def test_common_list_is_shipped() -> None:
    """The shipped list is read from the package and lower-case."""
    common = common_passwords()
    assert {"123456", "passwort", "password", "qwertz"} <= common
    assert all(p == p.casefold() for p in common)


def test_passwords_hash_and_verify() -> None:
    """argon2id hashes; NFKC normalisation makes composed and decomposed input equal."""
    passwords = Passwords(LIGHT_HASH_COST)
    stored = passwords.hash("Grüße-aus-Stuttgart")
    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "Gru\u0308ße-aus-Stuttgart")
    assert not passwords.verify(stored, "Grüße-aus-Ulm")
    assert not passwords.verify(None, "x")
    assert not passwords.verify("kein hash", "x")


@given(code=st.from_regex(r"\A\d{6}\Z"), chat_id=st.integers(1, 2**40))
def test_hmac_binds_code_to_chat_and_purpose(code: str, chat_id: int) -> None:
    """The stored value differs per chat and purpose and never contains the code."""
    keyring = Keyring(b"x" * 32)
    digest = keyring.code_digest(chat_id, Purpose.PASSWORD, code)
    assert code not in digest
    assert digest != keyring.code_digest(chat_id + 1, Purpose.PASSWORD, code)
    assert digest != keyring.code_digest(chat_id, Purpose.LINK, code)
    assert digest != Keyring(b"y" * 32).code_digest(chat_id, Purpose.PASSWORD, code)
    assert "x" not in repr(keyring)


def test_key_file_is_private_and_created_once(tmp_path: Path) -> None:
    """The generated key lives beside the database, mode 0600; racing starts share it."""
    database = tmp_path / "data" / "bot.sqlite3"
    path = key_file_for(database)
    keys: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: keys.append(load_or_create_key_file(path)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1
    assert len(keys[0]) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["bot.sqlite3.key"]
    assert load_key(None, database) == keys[0]
    assert load_key("s" * 32, database) == b"s" * 32


def test_key_file_readable_by_others_stops_start_up(tmp_path: Path) -> None:
    """A key file others can read is refused: whoever reads it can forge the codes' HMACs."""
    path = tmp_path / "bot.sqlite3.key"
    load_or_create_key_file(path)
    os.chmod(path, 0o644)  # noqa: PTH101 - the test sets the mode on purpose
    with pytest.raises(InsecureKeyFileError) as raised:
        load_or_create_key_file(path)
    assert raised.value.path == path
    assert "chmod 600" in str(raised.value)


# --- settings ------------------------------------------------------------------------------


def test_smtp_is_optional() -> None:
    """Without NETZWERKBOT_SMTP_HOST there is no SMTP (and the account commands are off)."""
    assert Settings.from_env({}, env_file=None).smtp is None


def test_smtp_settings_are_read() -> None:
    """Host, port by security, sender, login; the password never in repr."""
    settings = Settings.from_env(
        {
            **SMTP,
            "NETZWERKBOT_SMTP_SECURITY": "TLS",
            "NETZWERKBOT_SMTP_USER": "bot",
            "NETZWERKBOT_SMTP_PASSWORD": "smtp-geheim",
            "NETZWERKBOT_SECRET_KEY": "k" * 40,
        },
        env_file=None,
    )
    assert settings.smtp is not None
    assert (settings.smtp.port, settings.smtp.security) == (465, "tls")
    assert settings.smtp.user == "bot"
    assert "smtp-geheim" not in repr(settings)
    assert "k" * 40 not in repr(settings)
    starttls = Settings.from_env(SMTP, env_file=None).smtp
    assert starttls is not None
    assert (starttls.port, starttls.security) == (587, "starttls")


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"NETZWERKBOT_SMTP_USER": "bot"}, "NETZWERKBOT_SMTP_PASSWORD"),
        ({"NETZWERKBOT_SMTP_PASSWORD": "x"}, "NETZWERKBOT_SMTP_USER"),
        ({"NETZWERKBOT_SMTP_SECURITY": "ssl"}, "NETZWERKBOT_SMTP_SECURITY"),
        ({"NETZWERKBOT_SMTP_PORT": "70000"}, "NETZWERKBOT_SMTP_PORT"),
        ({"NETZWERKBOT_SMTP_FROM": ""}, "NETZWERKBOT_SMTP_FROM"),
        ({"NETZWERKBOT_SECRET_KEY": "zu-kurz"}, "NETZWERKBOT_SECRET_KEY"),
        (
            {
                "NETZWERKBOT_SMTP_SECURITY": "none",
                "NETZWERKBOT_SMTP_USER": "bot",
                "NETZWERKBOT_SMTP_PASSWORD": "zu-kurz",
            },
            "NETZWERKBOT_SMTP_SECURITY",
        ),
    ],
)
def test_bad_smtp_settings_name_the_variable(extra: dict[str, str], variable: str) -> None:
    """One line names the variable; a secret is never echoed."""
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({**SMTP, **extra}, env_file=None)
    assert raised.value.variable == variable
    assert "zu-kurz" not in str(raised.value)


# --- logs and mail -------------------------------------------------------------------------


def test_secrets_and_payloads_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Protected secrets are redacted; PTB's payload DEBUG lines keep only the endpoint."""
    protect_secrets("der-geheime-schluessel-0123456789abcdef", None)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("netzwerkbot.test").error("key der-geheime-schluessel-0123456789abcdef")
        logging.getLogger("telegram.ext.ExtBot").debug(
            "Calling Bot API endpoint `%s` with parameters `%s`",
            "sendMessage",
            {"text": "Mein Kennwort ist Brombeere-73"},
        )
    assert "der-geheime-schluessel" not in caplog.text
    assert "Brombeere" not in caplog.text
    assert "sendMessage" in caplog.text


def test_mail_is_german_plain_text() -> None:
    """UTF-8 plain text, auto-generated, with a Message-ID on the sender's domain."""
    message = build_message(
        Mail(EMAIL, "Ihr Kennwort wurde geändert", "Grüße"), sender="Bot <bot@example.org>"
    )
    assert message["Subject"] == "Ihr Kennwort wurde geändert"
    assert message["Auto-Submitted"] == "auto-generated"
    assert str(message["Message-ID"]).endswith("@example.org>")
    assert message.get_content_type() == "text/plain"
    assert message.get_content().strip() == "Grüße"
