"""Settings from the environment: defaults, the .env file, one clear line per bad value."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import certifi
import pytest

from bot.config import (
    DEFAULT_API_URL,
    PREFIX,
    READ_ELSEWHERE,
    VARIABLES,
    ConfigError,
    Env,
    Settings,
)
from bot.domain.schedule import QuietHours
from bot.i18n import translator
from storage.ldap_directory import parse_url

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"


def test_defaults_need_nothing() -> None:
    """Without any variable everything has a default, and the token is absent."""
    settings = Settings.from_env({}, env_file=None)
    assert settings.token is None
    assert settings.api_url == DEFAULT_API_URL
    assert settings.admins == frozenset()
    assert settings.timezone == ZoneInfo("Europe/Berlin")
    assert settings.database.name == "netzwerkbot.sqlite3"


def test_values_are_read() -> None:
    """Every documented variable is read."""
    settings = Settings.from_env(
        {
            "NETZWERKBOT_TOKEN": TOKEN,
            "NETZWERKBOT_API_URL": "http://127.0.0.1:8081/bot",
            "NETZWERKBOT_DATABASE": "/srv/bot/x.sqlite3",
            "NETZWERKBOT_ADMINS": " 1, 22 ,333",
            "NETZWERKBOT_TIMEZONE": "Europe/Vienna",
            "OTHER_PROGRAM_SETTING": "whatever",
        },
        env_file=None,
    )
    assert settings.require_token() == TOKEN
    assert settings.api_url == "http://127.0.0.1:8081/bot"
    assert settings.database == Path("/srv/bot/x.sqlite3")
    assert settings.admins == frozenset({1, 22, 333})
    assert settings.timezone == ZoneInfo("Europe/Vienna")


def test_token_is_never_in_repr() -> None:
    """Printing the settings never shows the token."""
    settings = Settings.from_env({"NETZWERKBOT_TOKEN": TOKEN}, env_file=None)
    assert TOKEN not in repr(settings)


def test_env_file_and_environment(tmp_path: Path) -> None:
    """A .env file is read; the real environment wins."""
    env_file = tmp_path / ".env"
    env_file.write_text("NETZWERKBOT_ADMINS=5\nNETZWERKBOT_TIMEZONE=Europe/Vienna\n")
    settings = Settings.from_env({"NETZWERKBOT_ADMINS": "7"}, env_file=env_file)
    assert settings.admins == frozenset({7})
    assert settings.timezone == ZoneInfo("Europe/Vienna")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NETZWERKBOT_TOKEN", "not-a-token"),
        ("NETZWERKBOT_API_URL", "ftp://x"),
        ("NETZWERKBOT_API_URL", "http://api.example.org/bot"),
        ("NETZWERKBOT_API_URL", "http://10.0.0.5:8081/bot"),
        ("NETZWERKBOT_ADMINS", "12,abc"),
        ("NETZWERKBOT_TIMEZONE", "Europe/Berln"),
        ("NETZWERKBOT_LOG_LEVEL", "LOUD"),
        ("NETZWERKBOT_QUIET_HOURS", "nachts"),
        ("NETZWERKBOT_SEND_RATE", "-1"),
        ("NETZWERKBOT_SEND_RATE", "nan"),
        ("NETZWERKBOT_RETENTION_DAYS", "0"),
        ("NETZWERKBOT_RETENTION_DAYS", "neunzig"),
    ],
)
def test_malformed_value_names_the_variable(variable: str, value: str) -> None:
    """A malformed value stops start-up with one German line naming the variable."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value}, env_file=None)
    line = caught.value.describe(translator().gettext)
    assert variable in line
    assert "\n" not in line
    assert line.startswith("Konfigurationsfehler")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8081/bot", "http://localhost:8081/bot", "http://[::1]:8081/bot"]
)
def test_plain_http_api_url_only_on_loopback(url: str) -> None:
    """A local Bot API server may speak plain HTTP: the token then never leaves the machine."""
    assert Settings.from_env({"NETZWERKBOT_API_URL": url}, env_file=None).api_url == url


def test_token_required_only_to_run() -> None:
    """Without a token only ``run`` fails, with a clear line."""
    settings = Settings.from_env({}, env_file=None)
    with pytest.raises(ConfigError) as caught:
        settings.require_token()
    assert "NETZWERKBOT_TOKEN" in caught.value.describe(translator().gettext)


def test_quiet_hours_and_send_rate() -> None:
    """Quiet hours default to 22:00-07:00, empty means none; the send rate defaults to 30."""
    default = Settings.from_env({}, env_file=None)
    assert default.quiet_hours == QuietHours(time(22, 0), time(7, 0))
    assert default.send_rate == 30
    assert default.retention_days == 90
    assert (
        Settings.from_env({"NETZWERKBOT_RETENTION_DAYS": "30"}, env_file=None).retention_days == 30
    )
    custom = Settings.from_env(
        {"NETZWERKBOT_QUIET_HOURS": "21:30-06:45", "NETZWERKBOT_SEND_RATE": "0"}, env_file=None
    )
    assert custom.quiet_hours == QuietHours(time(21, 30), time(6, 45))
    assert custom.send_rate == 0
    assert Settings.from_env({"NETZWERKBOT_QUIET_HOURS": ""}, env_file=None).quiet_hours is None


def test_error_description_has_frames_but_no_messages() -> None:
    """The error log shows where it failed and what kind of error, never the message."""
    from bot.domain.tracebacks import describe_without_messages

    typed = "Geheim" + "nis-4711"  # kept out of the source lines a traceback quotes

    def fail() -> None:
        try:
            int(typed)
        except ValueError as error:
            raise RuntimeError(f"user typed {typed}") from error

    try:
        fail()
    except RuntimeError as error:
        text = describe_without_messages(error)
    assert "Geheimnis-4711" not in text
    assert "builtins.ValueError" in text
    assert "builtins.RuntimeError" in text
    assert "in fail" in text


def test_listener_and_webhook_are_off_by_default() -> None:
    """Without NETZWERKBOT_HTTP there is no listener, without the URL no webhook."""
    settings = Settings.from_env({}, env_file=None)
    assert settings.http is None
    assert settings.webhook is None


def test_listener_and_webhook_are_read() -> None:
    """host:port (IPv6 in brackets) and the webhook's URL, path and secret are read."""
    settings = Settings.from_env(
        {
            "NETZWERKBOT_HTTP": "[::1]:8080",
            "NETZWERKBOT_WEBHOOK_URL": "https://bot.example.org/telegram/hook",
            "NETZWERKBOT_WEBHOOK_SECRET": "abc_DEF-123",
        },
        env_file=None,
    )
    assert settings.http is not None
    assert (settings.http.host, settings.http.port) == ("::1", 8080)
    assert settings.webhook is not None
    assert settings.webhook.path == "/telegram/hook"
    assert settings.webhook.secret == "abc_DEF-123"
    assert "abc_DEF" not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"NETZWERKBOT_HTTP": "8080"}, "NETZWERKBOT_HTTP"),
        ({"NETZWERKBOT_HTTP": "127.0.0.1:99999"}, "NETZWERKBOT_HTTP"),
        (
            {"NETZWERKBOT_HTTP": "127.0.0.1:8080", "NETZWERKBOT_WEBHOOK_URL": "http://bot.org/x"},
            "NETZWERKBOT_WEBHOOK_URL",
        ),
        (
            {"NETZWERKBOT_HTTP": "127.0.0.1:8080", "NETZWERKBOT_WEBHOOK_URL": "ftp://bot.org/x"},
            "NETZWERKBOT_WEBHOOK_URL",
        ),
        ({"NETZWERKBOT_WEBHOOK_URL": "https://bot.example.org/x"}, "NETZWERKBOT_HTTP"),
        (
            {
                "NETZWERKBOT_HTTP": "127.0.0.1:8080",
                "NETZWERKBOT_WEBHOOK_URL": "https://bot.example.org/x",
                "NETZWERKBOT_WEBHOOK_SECRET": "not allowed!",
            },
            "NETZWERKBOT_WEBHOOK_SECRET",
        ),
        ({"NETZWERKBOT_WEBHOOK_SECRET": "abc"}, "NETZWERKBOT_WEBHOOK_SECRET"),
        (
            {"NETZWERKBOT_HTTP": "127.0.0.1:8080", "NETZWERKBOT_PUBLIC_URL": "http://bot.org"},
            "NETZWERKBOT_PUBLIC_URL",
        ),
        (
            {"NETZWERKBOT_HTTP": "127.0.0.1:8080", "NETZWERKBOT_PUBLIC_URL": "webcal://bot.org"},
            "NETZWERKBOT_PUBLIC_URL",
        ),
        ({"NETZWERKBOT_PUBLIC_URL": "https://bot.example.org"}, "NETZWERKBOT_HTTP"),
    ],
)
def test_bad_listener_and_webhook_values_name_the_variable(
    environ: dict[str, str], variable: str
) -> None:
    """A bad value stops start-up with a German line naming the variable, never a secret."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(environ, env_file=None)
    assert caught.value.variable == variable
    line = caught.value.describe(translator().gettext)
    assert variable in line
    assert "not allowed!" not in line


def test_public_url_is_read() -> None:
    """The feeds' public base URL loses its trailing slash; http only on loopback."""
    for url, expected in (
        ("https://bot.example.org/", "https://bot.example.org"),
        ("https://bot.example.org/netzwerkbot", "https://bot.example.org/netzwerkbot"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ):
        settings = Settings.from_env(
            {"NETZWERKBOT_HTTP": "127.0.0.1:0", "NETZWERKBOT_PUBLIC_URL": url}, env_file=None
        )
        assert settings.public_url == expected
    assert Settings.from_env({}, env_file=None).public_url is None


def test_http_webhook_only_on_loopback() -> None:
    """http:// is fine for a webhook on the loopback address (a local proxy, tests)."""
    for url in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]:80/h"):
        settings = Settings.from_env(
            {"NETZWERKBOT_HTTP": "127.0.0.1:0", "NETZWERKBOT_WEBHOOK_URL": url}, env_file=None
        )
        assert settings.webhook is not None


LDAP: dict[str, str] = {
    "NETZWERKBOT_DIRECTORY": "ldap",
    "NETZWERKBOT_LDAP_URL": "ldaps://ldap.example.org",
    "NETZWERKBOT_LDAP_BIND_DN": "cn=netzwerkbot,ou=services,dc=example,dc=org",
    "NETZWERKBOT_LDAP_BIND_PASSWORD": "geheim-geheim",
    "NETZWERKBOT_LDAP_BASE_DN": "ou=people,dc=example,dc=org",
}


def test_ldap_settings(tmp_path: Path) -> None:
    """The LDAP directory's settings with their defaults; the password also from a file."""
    assert Settings.from_env({}, env_file=None).directory == "embedded"
    settings = Settings.from_env(LDAP, env_file=None)
    assert settings.directory == "ldap"
    assert settings.ldap is not None
    assert settings.ldap.mail_attribute == "mail"
    assert settings.ldap.name_attribute == "cn"
    assert settings.ldap.network_attribute == "ou"
    assert settings.ldap.active_filter == "(objectClass=inetOrgPerson)"
    assert "geheim" not in repr(settings)
    secret = tmp_path / "ldap-password"
    secret.write_text("aus-der-datei\n", encoding="utf-8")
    environ = {k: v for k, v in LDAP.items() if k != "NETZWERKBOT_LDAP_BIND_PASSWORD"}
    environ["NETZWERKBOT_LDAP_BIND_PASSWORD_FILE"] = str(secret)
    from_file = Settings.from_env(environ, env_file=None)
    assert from_file.ldap is not None
    assert from_file.ldap.bind_password == "aus-der-datei"


def test_ldap_security_and_password_mode() -> None:
    """StartTLS by default beyond loopback; AD's unicodePwd mode; both fit the URL."""
    default = Settings.from_env(LDAP, env_file=None).ldap
    assert default is not None
    assert (default.starttls, default.password_mode) == (None, "modify-password")
    active_directory = Settings.from_env(
        {
            **LDAP,
            "NETZWERKBOT_LDAP_URL": "ldap://dc1.example.org",
            "NETZWERKBOT_LDAP_PASSWORD_MODE": "AD-unicodePwd",
        },
        env_file=None,
    ).ldap
    assert active_directory is not None
    assert active_directory.password_mode == "ad-unicodepwd"
    assert parse_url(active_directory.url, active_directory.starttls).security == "starttls"
    local = Settings.from_env(
        {
            **LDAP,
            "NETZWERKBOT_LDAP_URL": "ldap://127.0.0.1:3389",
            "NETZWERKBOT_LDAP_STARTTLS": "yes",
            "NETZWERKBOT_LDAP_PASSWORD_MODE": "ad-unicodepwd",
        },
        env_file=None,
    ).ldap
    assert local is not None
    assert local.starttls is True


def test_ldap_ca_file_must_hold_certificates(tmp_path: Path) -> None:
    """A CA file that is no PEM certificate stops start-up, not the first /kennwort."""
    bad = tmp_path / "ca.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nkaputt\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**LDAP, "NETZWERKBOT_LDAP_CA_FILE": str(bad)}, env_file=None)
    assert caught.value.variable == "NETZWERKBOT_LDAP_CA_FILE"
    assert "PEM" in caught.value.describe(translator().gettext)


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        # Plain LDAP to another machine: refused at start-up, never sent in clear.
        (
            {"NETZWERKBOT_LDAP_URL": "ldap://ldap.example.org", "NETZWERKBOT_LDAP_STARTTLS": "no"},
            "NETZWERKBOT_LDAP_STARTTLS",
        ),
        ({"NETZWERKBOT_LDAP_STARTTLS": "yes"}, "NETZWERKBOT_LDAP_STARTTLS"),
        ({"NETZWERKBOT_LDAP_STARTTLS": "vielleicht"}, "NETZWERKBOT_LDAP_STARTTLS"),
        ({"NETZWERKBOT_LDAP_PASSWORD_MODE": "samba"}, "NETZWERKBOT_LDAP_PASSWORD_MODE"),
        # AD's unicodePwd over a plain connection (loopback without StartTLS): refused.
        (
            {
                "NETZWERKBOT_LDAP_URL": "ldap://localhost",
                "NETZWERKBOT_LDAP_PASSWORD_MODE": "ad-unicodepwd",
            },
            "NETZWERKBOT_LDAP_PASSWORD_MODE",
        ),
    ],
)
def test_ldap_security_refusals(changes: dict[str, str], variable: str) -> None:
    """Settings that would send passwords in clear, or make no sense, stop start-up."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**LDAP, **changes}, env_file=None)
    assert caught.value.variable == variable
    line = caught.value.describe(translator().gettext)
    assert line.startswith(f"Konfigurationsfehler in {variable}: ")
    assert "geheim" not in line


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NETZWERKBOT_DIRECTORY", "portal"),
        ("NETZWERKBOT_LDAP_URL", "http://ldap.example.org"),
        ("NETZWERKBOT_LDAP_URL", ""),
        ("NETZWERKBOT_LDAP_BASE_DN", ""),
        ("NETZWERKBOT_LDAP_BIND_DN", ""),
        ("NETZWERKBOT_LDAP_BIND_PASSWORD", ""),
        ("NETZWERKBOT_LDAP_BIND_PASSWORD_FILE", "/nicht/da"),
        ("NETZWERKBOT_LDAP_MAIL_ATTRIBUTE", "mail)(x"),
        ("NETZWERKBOT_LDAP_ACTIVE_FILTER", "objectClass=person"),
        ("NETZWERKBOT_LDAP_ACTIVE_FILTER", "(a=b))(|(c=d)"),
        ("NETZWERKBOT_LDAP_TIMEOUT", "0"),
        ("NETZWERKBOT_LDAP_CA_FILE", "/nicht/da.pem"),
    ],
)
def test_malformed_ldap_value_names_the_variable(variable: str, value: str) -> None:
    """A missing or malformed LDAP setting stops start-up with one line naming it."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**LDAP, variable: value}, env_file=None)
    line = caught.value.describe(translator().gettext)
    assert variable in line
    assert "\n" not in line
    assert "geheim" not in line


@pytest.mark.parametrize(
    ("variable", "closest"),
    [
        ("NETZWERKBOT_ADMIN", "NETZWERKBOT_ADMINS"),
        ("NETZWERKBOT_TOKN", "NETZWERKBOT_TOKEN"),
        ("NETZWERKBOT_SMTP_PASWORD", "NETZWERKBOT_SMTP_PASSWORD"),
        ("NETZWERKBOT_DATABASE_PATH", "NETZWERKBOT_DATABASE"),
    ],
)
def test_unknown_variable_names_the_closest(variable: str, closest: str) -> None:
    """A typo in a variable's name stops start-up with one line naming the likely one."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: "1"}, env_file=None)
    line = caught.value.describe(translator().gettext)
    assert line.startswith(f"Konfigurationsfehler in {variable}: unbekannte Variable")
    assert line.endswith(f"meinten Sie {closest}?")


def test_unknown_variable_without_a_close_one(tmp_path: Path) -> None:
    """A name far from every known one still stops start-up; a .env file is checked too."""
    env_file = tmp_path / ".env"
    env_file.write_text("NETZWERKBOT_XYZZY=1\n")
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({}, env_file=env_file)
    line = caught.value.describe(translator().gettext)
    assert "NETZWERKBOT_XYZZY" in line
    assert "unbekannte Variable" in line
    assert "\n" not in line


def test_every_known_variable_is_read(tmp_path: Path) -> None:
    """The list of known names is exact: each one is read where the settings are built."""
    key = tmp_path / "key"
    key.write_text("k" * 40)
    full = {
        "TOKEN": TOKEN,
        "API_URL": "http://127.0.0.1:8081/bot",
        "DATABASE": str(tmp_path / "x.sqlite3"),
        "ADMINS": "1",
        "TIMEZONE": "Europe/Berlin",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        "QUIET_HOURS": "",
        "SEND_RATE": "30",
        "SMTP_HOST": "mail.example.org",
        "SMTP_PORT": "25",
        "SMTP_SECURITY": "starttls",  # "none" with a login is refused
        "SMTP_USER": "bot",
        "SMTP_PASSWORD": "pw",
        "SMTP_FROM": "bot@example.org",
        "PRIVACY_CONTACT": "x@example.org",
        "RETENTION_DAYS": "30",
        "HTTP": "127.0.0.1:8080",
        "WEBHOOK_URL": "https://bot.example.org/telegram",
        "WEBHOOK_SECRET": "s3cret",
        "DIRECTORY": "ldap",
        "LDAP_URL": "ldaps://ldap.example.org",
        "LDAP_BIND_DN": "cn=netzwerkbot,ou=services,dc=example,dc=org",
        "LDAP_BIND_PASSWORD_FILE": str(key),
        "LDAP_BASE_DN": "ou=people,dc=example,dc=org",
        "LDAP_MAIL_ATTRIBUTE": "mail",
        "LDAP_NAME_ATTRIBUTE": "cn",
        "LDAP_NETWORK_ATTRIBUTE": "ou",
        "LDAP_ID_ATTRIBUTE": "entryUUID",
        "LDAP_ACTIVE_FILTER": "(objectClass=inetOrgPerson)",
        "LDAP_TIMEOUT": "5",
        # A real PEM bundle: the CA file is loaded at start-up.
        "LDAP_CA_FILE": certifi.where(),
        "LDAP_PASSWORD_MODE": "ad-unicodepwd",
    }
    env = Env({PREFIX + name: value for name, value in full.items()})
    Settings.from_variables(env)
    # The _FILE forms are read alongside their secrets (which are in the list).
    assert env.read | set(READ_ELSEWHERE) == set(VARIABLES)


def test_reading_an_unlisted_variable_is_a_programming_error() -> None:
    """A setting read but not listed fails at once, so the list cannot fall behind."""
    with pytest.raises(LookupError, match="VARIABLES"):
        Env({}).get("NOT_LISTED")


def test_secrets_from_files(tmp_path: Path) -> None:
    """Every secret can come from a file (Docker secrets, systemd credentials)."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    key_file = tmp_path / "key"
    key_file.write_text("s" * 40)
    password_file = tmp_path / "password"
    password_file.write_text("Sommer-2027\n")
    settings = Settings.from_env(
        {
            "NETZWERKBOT_TOKEN_FILE": str(token_file),
            "NETZWERKBOT_SECRET_KEY_FILE": str(key_file),
            "NETZWERKBOT_SMTP_HOST": "mail.example.org",
            "NETZWERKBOT_SMTP_FROM": "bot@example.org",
            "NETZWERKBOT_SMTP_USER": "bot",
            "NETZWERKBOT_SMTP_PASSWORD_FILE": str(password_file),
        },
        env_file=None,
    )
    assert settings.require_token() == TOKEN
    assert settings.secret_key == "s" * 40
    assert settings.smtp is not None
    assert settings.smtp.password == "Sommer-2027"


def test_secret_in_both_forms_is_an_error(tmp_path: Path) -> None:
    """A secret given directly and as a file stops start-up; the value is not echoed."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {"NETZWERKBOT_TOKEN": TOKEN, "NETZWERKBOT_TOKEN_FILE": str(token_file)},
            env_file=None,
        )
    line = caught.value.describe(translator().gettext)
    assert "NETZWERKBOT_TOKEN_FILE" in line
    assert "nicht beides" in line
    assert TOKEN not in line


def test_missing_secret_file(tmp_path: Path) -> None:
    """A secret file that cannot be read is named, with the kind of error."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {"NETZWERKBOT_SECRET_KEY_FILE": str(tmp_path / "missing")}, env_file=None
        )
    line = caught.value.describe(translator().gettext)
    assert line.startswith("Konfigurationsfehler in NETZWERKBOT_SECRET_KEY_FILE")
    assert "FileNotFoundError" in line


def test_env_file_variable(tmp_path: Path) -> None:
    """NETZWERKBOT_ENV_FILE names a further .env file: over ./.env, under the environment."""
    local = tmp_path / ".env"
    local.write_text("NETZWERKBOT_ADMINS=1\nNETZWERKBOT_LOG_LEVEL=DEBUG\n")
    extra = tmp_path / "bot.env"
    extra.write_text("NETZWERKBOT_ADMINS=2\nNETZWERKBOT_TIMEZONE=Europe/Vienna\n")
    settings = Settings.from_env(
        {"NETZWERKBOT_ENV_FILE": str(extra), "NETZWERKBOT_TIMEZONE": "Europe/Zurich"},
        env_file=local,
    )
    assert settings.admins == frozenset({2})
    assert settings.log_level == "DEBUG"
    assert settings.timezone == ZoneInfo("Europe/Zurich")
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"NETZWERKBOT_ENV_FILE": str(tmp_path / "nope.env")}, env_file=None)
    assert "NETZWERKBOT_ENV_FILE" in caught.value.describe(translator().gettext)


def test_log_format() -> None:
    """The log format is text by default, json on request, and nothing else."""
    assert Settings.from_env({}, env_file=None).log_format == "text"
    json_format = Settings.from_env({"NETZWERKBOT_LOG_FORMAT": "JSON"}, env_file=None)
    assert json_format.log_format == "json"
    with pytest.raises(ConfigError):
        Settings.from_env({"NETZWERKBOT_LOG_FORMAT": "xml"}, env_file=None)


def test_json_log_lines() -> None:
    """One JSON object per line: time, level, logger, message, update id, redacted traceback."""
    import io
    import json
    import logging

    from bot.logs import CURRENT_UPDATE, JsonFormatter, protect_secret

    secret = "987654:" + "Z" * 35
    protect_secret(secret)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.json")
    logger.addHandler(handler)
    logger.propagate = False
    token = CURRENT_UPDATE.set(4711)
    try:
        logger.warning("plain %s", "text")
        try:
            raise RuntimeError(f"https://api.telegram.org/bot{secret}/getMe")
        except RuntimeError:
            logger.exception("failed with\nnewline")
    finally:
        CURRENT_UPDATE.reset(token)
        logger.removeHandler(handler)
        logger.propagate = True
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING"
    assert first["logger"] == "tests.json"
    assert first["message"] == "plain text"
    assert first["update_id"] == 4711
    assert first["time"].endswith("+00:00")
    assert "Traceback" in second["exception"]
    assert second["message"] == "failed with\nnewline"
    assert secret not in stream.getvalue()
