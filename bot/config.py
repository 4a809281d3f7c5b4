"""Settings from the environment (and optional ``.env`` files), with clear errors.

Only the token is required, and only for ``netzwerkbot run``. An unknown ``NETZWERKBOT_*``
variable stops start-up with one line naming it and the closest known name, so a typo never
passes silently. Values in the real environment win over ``$NETZWERKBOT_ENV_FILE``, which
wins over ``.env`` in the working directory. Every secret can also come from a file
(``NETZWERKBOT_TOKEN_FILE`` …, for Docker secrets and systemd credentials).

**Adding a setting.** Read it with ``env.get("NAME")`` in :meth:`Settings.from_env` (or a
helper it calls) and add ``"NAME"`` to :data:`VARIABLES`; reading a name that is not listed
fails at once (every test that builds settings notices), and ``tests/test_config.py`` checks
that every listed name is read. Secrets go through :meth:`Env.secret` and into
:data:`SECRETS`, which also makes their ``_FILE`` form known.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.delivery.mail import SmtpSecurity, SmtpSettings
from bot.domain.account import HashCost
from bot.domain.net import is_loopback
from bot.domain.schedule import DEFAULT_QUIET_HOURS, QuietHours, default_quiet_hours
from bot.domain.text import N_
from storage.ldap_directory import (
    DEFAULT_TIMEOUT,
    PASSWORD_MODES,
    LdapConfigError,
    LdapOptions,
    PasswordMode,
    check_filter,
    parse_url,
    tls_context,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

PREFIX: Final = "NETZWERKBOT_"
DEFAULT_API_URL: Final = "https://api.telegram.org/bot"
DEFAULT_TIMEZONE: Final = "Europe/Berlin"
# Telegram's tokens: "<bot id>:<35 characters>"; be lenient about the second part's length.
TOKEN_PATTERN: Final = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_SEND_RATE: Final = 30.0  # Telegram's bulk limit: about 30 messages per second
MAX_SEND_RATE: Final = 1000.0
SMTP_SECURITY: Final[tuple[SmtpSecurity, ...]] = ("none", "starttls", "tls")
SMTP_DEFAULT_PORTS: Final[dict[SmtpSecurity, int]] = {"none": 25, "starttls": 587, "tls": 465}
MIN_SECRET_KEY: Final = 32
DEFAULT_RETENTION_DAYS: Final = 90
MAX_RETENTION_DAYS: Final = 3650
MAX_PORT: Final = 65535
ADDRESS: Final = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
# NETZWERKBOT_HTTP: "host:port", an IPv6 host in brackets ("[::1]:8080"); port 0 picks one.
HOST_PORT: Final = re.compile(
    r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]+)):(?P<port>\d{1,5})$"
)
# Telegram's rule for setWebhook's secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
WEBHOOK_SECRET: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
Directory = Literal["embedded", "ldap"]
DIRECTORIES: Final[tuple[Directory, ...]] = ("embedded", "ldap")
# An attribute description: a name (with options) or an OID.
ATTRIBUTE: Final = re.compile(r"^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)(?:;[A-Za-z0-9-]+)*$")
MAX_LDAP_TIMEOUT: Final = 120.0
LogFormat = Literal["text", "json"]
LOG_FORMATS: Final[tuple[LogFormat, ...]] = ("text", "json")
# Secrets: each may be given directly or as NAME_FILE, the path of a file holding it.
SECRETS: Final = ("TOKEN", "SMTP_PASSWORD", "SECRET_KEY", "WEBHOOK_SECRET")
# Known but not read through Env: ENV_FILE by Settings.from_env before the rest (where a
# further .env file is), API_SPEC by the sandbox (bot/sandbox/spec.py) that demo mode starts.
READ_ELSEWHERE: Final = ("ENV_FILE", "API_SPEC")
# The one list of known variables (without the prefix); see the module docstring.
VARIABLES: Final = frozenset(
    {
        "API_URL",
        "DATABASE",
        "ADMINS",
        "TIMEZONE",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "QUIET_HOURS",
        "SEND_RATE",
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_SECURITY",
        "SMTP_USER",
        "SMTP_FROM",
        "PRIVACY_CONTACT",
        "RETENTION_DAYS",
        "HTTP",
        "WEBHOOK_URL",
        "PUBLIC_URL",
        "DIRECTORY",
        "LDAP_URL",
        "LDAP_BIND_DN",
        "LDAP_BIND_PASSWORD",  # with its _FILE form, read by _bind_password
        "LDAP_BIND_PASSWORD_FILE",
        "LDAP_BASE_DN",
        "LDAP_MAIL_ATTRIBUTE",
        "LDAP_NAME_ATTRIBUTE",
        "LDAP_NETWORK_ATTRIBUTE",
        "LDAP_ID_ATTRIBUTE",
        "LDAP_ACTIVE_FILTER",
        "LDAP_TIMEOUT",
        "LDAP_CA_FILE",
        "LDAP_STARTTLS",
        "LDAP_PASSWORD_MODE",
        *SECRETS,
        *(name + "_FILE" for name in SECRETS),
        *READ_ELSEWHERE,
    }
)
YES_NO: Final[dict[str, bool]] = {"yes": True, "no": False}


class ConfigError(Exception):
    """A variable is missing or malformed; ``describe`` gives the one line to print."""

    def __init__(self, variable: str, problem: str, **params: str) -> None:
        super().__init__(f"{variable}: {problem.format(**params)}")
        self.variable = variable
        self.problem = problem
        self.params = params

    def describe(self, gettext: Callable[[str], str]) -> str:
        """Return the translated one-line message naming the variable."""
        return gettext("Configuration error in {variable}: {problem}").format(
            variable=self.variable, problem=gettext(self.problem).format(**self.params)
        )


class Env:
    """The merged variables; hands out only known ones (see the module docstring)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values
        self.read: set[str] = set()  # names asked for, for the test that the list is exact

    def raw(self, name: str) -> str | None:
        """Return the value of ``NETZWERKBOT_<name>`` as given (None when unset)."""
        if name not in VARIABLES:
            # A programming error, not a configuration error: the list must name it.
            raise LookupError(f"{PREFIX}{name} is read but not listed in bot.config.VARIABLES")
        self.read.add(name)
        return self._values.get(PREFIX + name)

    def get(self, name: str) -> str:
        """Return the value of ``NETZWERKBOT_<name>``, stripped; empty when unset."""
        return (self.raw(name) or "").strip()

    def secret(self, name: str) -> str:
        """Return a secret from ``NETZWERKBOT_<name>`` or the file ``NETZWERKBOT_<name>_FILE``.

        Setting both is an error; so is a file that cannot be read. A file's content is
        stripped of surrounding whitespace (editors and ``echo`` add a final newline).
        """
        if name not in SECRETS:
            raise LookupError(f"{PREFIX}{name} is not listed in bot.config.SECRETS")
        value, path = self.get(name), self.get(name + "_FILE")
        if not path:
            return value
        if value:
            raise ConfigError(
                PREFIX + name + "_FILE",
                N_("set either {name} or {name_file}, not both"),
                name=PREFIX + name,
                name_file=PREFIX + name + "_FILE",
            )
        try:
            return Path(path).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(
                PREFIX + name + "_FILE",
                N_("cannot read the file {path}: {error}"),
                path=path,
                error=error.__class__.__name__,
            ) from None


def check_unknown(names: Iterable[str]) -> None:
    """Raise ConfigError for the first ``NETZWERKBOT_*`` name that is not a known variable."""
    known = sorted(PREFIX + name for name in VARIABLES)
    for name in sorted(names):
        if not name.startswith(PREFIX) or name[len(PREFIX) :] in VARIABLES:
            continue
        closest = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if closest:
            raise ConfigError(
                name, N_("unknown variable, did you mean {closest}?"), closest=closest[0]
            )
        raise ConfigError(name, N_("unknown variable (the README lists all variables)"))


def default_database_path() -> Path:
    """Return where the database lives when NETZWERKBOT_DATABASE is unset."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "netzwerkbot" / "netzwerkbot.sqlite3"


@dataclass(frozen=True)
class HttpSettings:
    """Where the bot's one HTTP listener binds (health, metrics, the webhook)."""

    host: str
    port: int


@dataclass(frozen=True)
class WebhookSettings:
    """The public URL Telegram posts updates to, and the secret it sends along."""

    url: str
    # None: derived from the secret key (see bot.web.webhook.secret_token).
    secret: str | None = field(default=None, repr=False)  # never printed

    @property
    def path(self) -> str:
        """Return the URL's path: the listener takes the updates there."""
        return urlsplit(self.url).path or "/"


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment."""

    token: str | None = field(default=None, repr=False)  # never printed
    api_url: str = DEFAULT_API_URL
    database: Path = field(default_factory=default_database_path)
    admins: frozenset[int] = frozenset()
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    log_level: str = "INFO"
    # "text": one readable line per record; "json": one JSON object per line.
    log_format: LogFormat = "text"
    # Default quiet hours of new subscribers; None: no quiet hours.
    quiet_hours: QuietHours | None = DEFAULT_QUIET_HOURS
    # Pushes (reminders, notices, broadcasts) per second; 0: no limit in the bot.
    send_rate: float = DEFAULT_SEND_RATE
    # Outgoing e-mail; None (no NETZWERKBOT_SMTP_HOST): the account commands are off.
    smtp: SmtpSettings | None = None
    # Key of the HMACs over codes; None: a key file beside the database (see bot.domain.account).
    secret_key: str | None = field(default=None, repr=False)  # never printed
    # Whom people contact about their data; shown by /datenschutz.
    privacy_contact: str | None = None
    # The member directory: "embedded" (SQLite) or "ldap" with its options.
    directory: Directory = "embedded"
    ldap: LdapOptions | None = None
    # Cost of new argon2id hashes: the library's defaults. Tests pass LIGHT_HASH_COST; there
    # is deliberately no variable, so a deployment cannot weaken its hashes by accident.
    hash_cost: HashCost = field(default_factory=HashCost)
    # The HTTP listener (NETZWERKBOT_HTTP); None: no listener.
    http: HttpSettings | None = None
    # Webhook mode (NETZWERKBOT_WEBHOOK_URL); None: long polling.
    webhook: WebhookSettings | None = None
    # Where the listener is reachable from outside (NETZWERKBOT_PUBLIC_URL), without a trailing
    # slash; None: the calendar feeds are not offered in the chat.
    public_url: str | None = None
    # Days that sent reminders and notices, stopped subscriptions and ended account dialogs
    # are kept before the daily purge deletes them (the privacy text says so).
    retention_days: int = DEFAULT_RETENTION_DAYS

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
    ) -> Settings:
        """Read the settings; raise ConfigError naming the first bad or unknown variable.

        ``env_file`` is the working directory's ``.env`` (tests pass None); a file named by
        ``NETZWERKBOT_ENV_FILE`` in the environment is read after it and must exist.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update(_read_env_file(env_file, PREFIX + "ENV_FILE"))
        extra = (environ.get(PREFIX + "ENV_FILE") or "").strip()
        if extra:
            path = Path(extra).expanduser()
            if not path.is_file():
                raise ConfigError(
                    PREFIX + "ENV_FILE", N_("there is no file {path}"), path=str(path)
                )
            values.update(_read_env_file(path, PREFIX + "ENV_FILE"))
        values.update(environ)
        check_unknown(values)
        env = Env(values)
        return cls.from_variables(env)

    @classmethod
    def from_variables(cls, env: Env) -> Settings:
        """Build the settings from merged, known variables."""
        get = env.get
        token = env.secret("TOKEN") or None
        if token is not None and not TOKEN_PATTERN.fullmatch(token):
            raise ConfigError(
                "NETZWERKBOT_TOKEN", N_("this is not a bot token of the form 123456:ABC…")
            )
        return cls(
            token=token,
            api_url=_api_url(get("API_URL")),
            database=Path(get("DATABASE")).expanduser()
            if get("DATABASE")
            else default_database_path(),
            admins=_admins(get("ADMINS")),
            timezone=_timezone(get("TIMEZONE")),
            log_level=_log_level(get("LOG_LEVEL")),
            log_format=_log_format(get("LOG_FORMAT")),
            quiet_hours=_quiet_hours(env.raw("QUIET_HOURS")),
            send_rate=_send_rate(get("SEND_RATE")),
            smtp=_smtp(env),
            secret_key=_secret_key(env.secret("SECRET_KEY")),
            privacy_contact=get("PRIVACY_CONTACT") or None,
            http=(http := _http(get("HTTP"))),
            webhook=_webhook(get("WEBHOOK_URL"), env.secret("WEBHOOK_SECRET"), http),
            public_url=_public_url(get("PUBLIC_URL"), http),
            retention_days=_retention_days(get("RETENTION_DAYS")),
            **_directory(get),
        )

    def require_token(self) -> str:
        """Return the token or raise ConfigError (only ``run`` needs it)."""
        if self.token is None:
            raise ConfigError("NETZWERKBOT_TOKEN", N_("is required to run the bot"))
        return self.token


def _api_url(raw: str) -> str:
    if not raw:
        return DEFAULT_API_URL
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", raw):
        raise ConfigError(
            "NETZWERKBOT_API_URL",
            N_("expected a URL such as http://127.0.0.1:8081/bot, got {value!r}"),
            value=raw,
        )
    # The token travels in every request's path: in clear text only on this machine.
    _require_https("NETZWERKBOT_API_URL", raw)
    return raw


def _require_https(variable: str, url: str) -> None:
    """Refuse an ``http://`` URL unless it points at this machine's loopback."""
    parts = urlsplit(url)
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        raise ConfigError(
            variable,
            N_("must be an HTTPS URL (HTTP only on the loopback address), got {value!r}"),
            value=url,
        )


def _admins(raw: str) -> frozenset[int]:
    admins: set[int] = set()
    for part in filter(None, (p.strip() for p in raw.split(","))):
        if not re.fullmatch(r"\d{1,20}", part):
            raise ConfigError(
                "NETZWERKBOT_ADMINS",
                N_("expected comma-separated Telegram user ids, got {value!r}"),
                value=part,
            )
        admins.add(int(part))
    return frozenset(admins)


def _timezone(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "NETZWERKBOT_TIMEZONE",
            N_("unknown time zone {value!r}, expected e.g. Europe/Berlin"),
            value=raw,
        ) from None


def _quiet_hours(raw: str | None) -> QuietHours | None:
    try:
        return default_quiet_hours(raw)
    except ValueError:
        raise ConfigError(
            "NETZWERKBOT_QUIET_HOURS",
            N_("expected quiet hours such as 22:00-07:00, or nothing for none, got {value!r}"),
            value=raw or "",
        ) from None


def _send_rate(raw: str) -> float:
    if not raw:
        return DEFAULT_SEND_RATE
    try:
        rate = float(raw)
    except ValueError:
        rate = -1.0
    if not math.isfinite(rate) or not 0 <= rate <= MAX_SEND_RATE:
        raise ConfigError(
            "NETZWERKBOT_SEND_RATE",
            N_("expected messages per second from 0 (no limit) to 1000, got {value!r}"),
            value=raw,
        )
    return rate


def _read_env_file(path: Path, variable: str) -> dict[str, str]:
    """Return the variables of a .env file."""
    try:
        return {k: v for k, v in dotenv_values(path).items() if v is not None}
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            variable,
            N_("cannot read the file {path}: {error}"),
            path=str(path),
            error=error.__class__.__name__,
        ) from None


def _smtp(env: Env) -> SmtpSettings | None:
    """Read the SMTP variables; None without NETZWERKBOT_SMTP_HOST."""
    get = env.get
    host = get("SMTP_HOST")
    if not host:
        return None
    raw_security = get("SMTP_SECURITY").lower() or "starttls"
    if raw_security not in SMTP_SECURITY:
        raise ConfigError(
            "NETZWERKBOT_SMTP_SECURITY",
            N_("expected none, starttls or tls, got {value!r}"),
            value=get("SMTP_SECURITY"),
        )
    security = raw_security
    raw_port = get("SMTP_PORT")
    port = SMTP_DEFAULT_PORTS[security]
    if raw_port:
        port = int(raw_port) if re.fullmatch(r"\d{1,5}", raw_port) else 0
        if not 1 <= port <= MAX_PORT:
            raise ConfigError(
                "NETZWERKBOT_SMTP_PORT",
                N_("expected a port number from 1 to 65535, got {value!r}"),
                value=raw_port,
            )
    sender = get("SMTP_FROM")
    if not ADDRESS.fullmatch(parseaddr(sender)[1]):
        raise ConfigError(
            "NETZWERKBOT_SMTP_FROM",
            N_("expected the sender address, e.g. Netzwerkbot <bot@example.org>, got {value!r}"),
            value=sender,
        )
    user, password = get("SMTP_USER") or None, env.secret("SMTP_PASSWORD") or None
    if (user is None) != (password is None):
        missing = "NETZWERKBOT_SMTP_PASSWORD" if password is None else "NETZWERKBOT_SMTP_USER"
        raise ConfigError(
            missing, N_("NETZWERKBOT_SMTP_USER and NETZWERKBOT_SMTP_PASSWORD go together")
        )
    if user is not None and security == "none":
        # The login would cross the network in clear text.
        raise ConfigError(
            "NETZWERKBOT_SMTP_SECURITY",
            N_("must be starttls or tls when NETZWERKBOT_SMTP_USER and a password are set"),
        )
    return SmtpSettings(
        host=host, sender=sender, port=port, security=security, user=user, password=password
    )


def _retention_days(raw: str) -> int:
    if not raw:
        return DEFAULT_RETENTION_DAYS
    days = int(raw) if re.fullmatch(r"\d{1,5}", raw) else 0
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise ConfigError(
            "NETZWERKBOT_RETENTION_DAYS",
            N_("expected a number of days from 1 to 3650, got {value!r}"),
            value=raw,
        )
    return days


def _secret_key(raw: str) -> str | None:
    if raw and len(raw) < MIN_SECRET_KEY:
        # Never echo the value: it is a secret, even a bad one.
        raise ConfigError(
            "NETZWERKBOT_SECRET_KEY",
            N_("must be at least 32 characters long (e.g. from: openssl rand -hex 32)"),
        )
    return raw or None


def _http(raw: str) -> HttpSettings | None:
    """Read NETZWERKBOT_HTTP ("127.0.0.1:8080"); None (no listener) when unset."""
    if not raw:
        return None
    match = HOST_PORT.fullmatch(raw)
    port = int(match["port"]) if match else -1
    if match is None or not 0 <= port <= MAX_PORT:
        raise ConfigError(
            "NETZWERKBOT_HTTP",
            N_("expected host:port such as 127.0.0.1:8080, got {value!r}"),
            value=raw,
        )
    return HttpSettings(host=match["v6"] or match["host"], port=port)


def _webhook(url: str, secret: str, http: HttpSettings | None) -> WebhookSettings | None:
    """Read the webhook variables; None (long polling) without NETZWERKBOT_WEBHOOK_URL."""
    if not url:
        if secret:
            raise ConfigError(
                "NETZWERKBOT_WEBHOOK_SECRET", N_("is only used with NETZWERKBOT_WEBHOOK_URL")
            )
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query:
        raise ConfigError(
            "NETZWERKBOT_WEBHOOK_URL",
            N_("expected the public HTTPS URL that Telegram calls, got {value!r}"),
            value=url,
        )
    _require_https("NETZWERKBOT_WEBHOOK_URL", url)
    if secret and not WEBHOOK_SECRET.fullmatch(secret):
        # Never echo the value: it is a secret, even a bad one.
        raise ConfigError(
            "NETZWERKBOT_WEBHOOK_SECRET",
            N_("expected 1 to 256 characters of A-Z, a-z, 0-9, _ and -"),
        )
    if http is None:
        raise ConfigError(
            "NETZWERKBOT_HTTP",
            N_("is required with NETZWERKBOT_WEBHOOK_URL: the listener that takes the updates"),
        )
    return WebhookSettings(url=url, secret=secret or None)


def _public_url(url: str, http: HttpSettings | None) -> str | None:
    """Read NETZWERKBOT_PUBLIC_URL: the listener's public base URL (the calendar feeds)."""
    if not url:
        return None
    parts = urlsplit(url)
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.query
        or parts.fragment
    ):
        raise ConfigError(
            "NETZWERKBOT_PUBLIC_URL",
            N_("expected the public HTTPS address of the listener, got {value!r}"),
            value=url,
        )
    _require_https("NETZWERKBOT_PUBLIC_URL", url)
    if http is None:
        raise ConfigError(
            "NETZWERKBOT_HTTP",
            N_("is required with NETZWERKBOT_PUBLIC_URL: the listener that serves the feeds"),
        )
    return url.rstrip("/")


def _log_format(raw: str) -> LogFormat:
    value = (raw or "text").lower()
    for known in LOG_FORMATS:
        if value == known:
            return known
    raise ConfigError(
        "NETZWERKBOT_LOG_FORMAT",
        N_("expected {text} or {json}, got {value!r}"),
        text="text",
        json="json",
        value=raw,
    )


def _log_level(raw: str) -> str:
    level = (raw or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(
            "NETZWERKBOT_LOG_LEVEL",
            N_("expected one of DEBUG, INFO, WARNING, ERROR, got {value!r}"),
            value=raw,
        )
    return level


def _directory(get: Callable[[str], str]) -> dict[str, Any]:
    """Read NETZWERKBOT_DIRECTORY and, for ``ldap``, the LDAP variables."""
    raw = get("DIRECTORY").lower() or "embedded"
    if raw not in DIRECTORIES:
        raise ConfigError(
            "NETZWERKBOT_DIRECTORY",
            N_("expected embedded or ldap, got {value!r}"),
            value=get("DIRECTORY"),
        )
    if raw == "embedded":
        return {"directory": "embedded", "ldap": None}
    return {"directory": "ldap", "ldap": _ldap(get)}


def _required(get: Callable[[str], str], name: str) -> str:
    value = get(name)
    if not value:
        raise ConfigError(PREFIX + name, N_("is required with NETZWERKBOT_DIRECTORY=ldap"))
    return value


def _ldap(get: Callable[[str], str]) -> LdapOptions:
    """Read the LDAP directory's variables; every problem names its variable."""
    url = _required(get, "LDAP_URL")
    try:
        parse_url(url)
    except LdapConfigError:
        raise ConfigError(
            "NETZWERKBOT_LDAP_URL",
            N_(
                "expected ldaps://host[:port] or ldap://host[:port] (StartTLS; plain only on "
                "a loopback address), got {value!r}"
            ),
            value=url,
        ) from None
    starttls, password_mode = _ldap_security(get, url)
    bind_dn = _required(get, "LDAP_BIND_DN")
    base_dn = _required(get, "LDAP_BASE_DN")
    attributes = {}
    for name, default in (
        ("MAIL", "mail"),
        ("NAME", "cn"),
        ("NETWORK", "ou"),
        ("ID", "entryUUID"),
    ):
        value = get(f"LDAP_{name}_ATTRIBUTE") or default
        if not ATTRIBUTE.fullmatch(value):
            raise ConfigError(
                f"{PREFIX}LDAP_{name}_ATTRIBUTE",
                N_("expected an LDAP attribute name such as mail, got {value!r}"),
                value=value,
            )
        attributes[name.lower()] = value
    active = get("LDAP_ACTIVE_FILTER") or "(objectClass=inetOrgPerson)"
    try:
        active = check_filter(active)
    except LdapConfigError:
        raise ConfigError(
            "NETZWERKBOT_LDAP_ACTIVE_FILTER",
            N_(
                "expected one LDAP filter in parentheses, e.g. (objectClass=inetOrgPerson), "
                "got {value!r}"
            ),
            value=active,
        ) from None
    raw_timeout = get("LDAP_TIMEOUT")
    try:
        timeout = float(raw_timeout) if raw_timeout else DEFAULT_TIMEOUT
    except ValueError:
        timeout = -1.0
    if not math.isfinite(timeout) or not 0 < timeout <= MAX_LDAP_TIMEOUT:
        raise ConfigError(
            "NETZWERKBOT_LDAP_TIMEOUT",
            N_("expected seconds from 0.1 to 120, got {value!r}"),
            value=raw_timeout,
        )
    ca_file = Path(get("LDAP_CA_FILE")).expanduser() if get("LDAP_CA_FILE") else None
    if ca_file is not None and not ca_file.is_file():
        raise ConfigError(
            "NETZWERKBOT_LDAP_CA_FILE", N_("there is no file {value!r}"), value=str(ca_file)
        )
    if ca_file is not None:
        try:
            tls_context(ca_file)
        except LdapConfigError:
            raise ConfigError(
                "NETZWERKBOT_LDAP_CA_FILE",
                N_("expected CA certificates in PEM format in {value!r}"),
                value=str(ca_file),
            ) from None
    return LdapOptions(
        url=url,
        bind_dn=bind_dn,
        bind_password=_bind_password(get),
        base_dn=base_dn,
        mail_attribute=attributes["mail"],
        name_attribute=attributes["name"],
        network_attribute=attributes["network"],
        id_attribute=attributes["id"],
        active_filter=active,
        timeout=timeout,
        ca_file=ca_file,
        starttls=starttls,
        password_mode=password_mode,
    )


def _ldap_security(get: Callable[[str], str], url: str) -> tuple[bool | None, PasswordMode]:
    """Read NETZWERKBOT_LDAP_STARTTLS and _PASSWORD_MODE; check they fit the URL."""
    raw = get("LDAP_STARTTLS")
    if raw and raw.lower() not in YES_NO:
        raise ConfigError(
            "NETZWERKBOT_LDAP_STARTTLS", N_("expected yes or no, got {value!r}"), value=raw
        )
    starttls = YES_NO[raw.lower()] if raw else None
    if starttls is not None and url.lower().startswith("ldaps:"):
        raise ConfigError(
            "NETZWERKBOT_LDAP_STARTTLS",
            N_("is only for ldap:// URLs; ldaps:// is encrypted from the start"),
        )
    try:
        security = parse_url(url, starttls).security
    except LdapConfigError:
        raise ConfigError(
            "NETZWERKBOT_LDAP_STARTTLS",
            N_("no is allowed only for a loopback address in NETZWERKBOT_LDAP_URL"),
        ) from None
    mode = get("LDAP_PASSWORD_MODE").lower() or "modify-password"
    if mode not in PASSWORD_MODES:
        raise ConfigError(
            "NETZWERKBOT_LDAP_PASSWORD_MODE",
            N_("expected modify-password or ad-unicodepwd, got {value!r}"),
            value=get("LDAP_PASSWORD_MODE"),
        )
    if mode == "ad-unicodepwd" and security == "plain":
        raise ConfigError(
            "NETZWERKBOT_LDAP_PASSWORD_MODE",
            N_(
                "ad-unicodepwd needs an encrypted connection: ldaps:// or StartTLS "
                "(NETZWERKBOT_LDAP_STARTTLS=yes)"
            ),
        )
    return starttls, "ad-unicodepwd" if mode == "ad-unicodepwd" else "modify-password"


def _bind_password(get: Callable[[str], str]) -> str:
    """Return the service account's password, from the variable or from its file."""
    inline, file_name = get("LDAP_BIND_PASSWORD"), get("LDAP_BIND_PASSWORD_FILE")
    if inline and file_name:
        raise ConfigError(
            "NETZWERKBOT_LDAP_BIND_PASSWORD_FILE",
            N_(
                "set NETZWERKBOT_LDAP_BIND_PASSWORD or NETZWERKBOT_LDAP_BIND_PASSWORD_FILE, "
                "not both"
            ),
        )
    if inline:
        return inline
    if not file_name:
        raise ConfigError(
            "NETZWERKBOT_LDAP_BIND_PASSWORD",
            N_(
                "is required with NETZWERKBOT_DIRECTORY=ldap "
                "(or NETZWERKBOT_LDAP_BIND_PASSWORD_FILE)"
            ),
        )
    try:
        text = Path(file_name).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            "NETZWERKBOT_LDAP_BIND_PASSWORD_FILE",
            N_("cannot read {value!r} ({error})"),
            value=file_name,
            error=type(error).__name__,
        ) from None
    # One trailing newline (as an editor or echo writes) is not part of the password.
    password = text.removesuffix("\n").removesuffix("\r")
    if not password:
        raise ConfigError("NETZWERKBOT_LDAP_BIND_PASSWORD_FILE", N_("the file is empty"))
    return password
