"""A real OpenLDAP server for the tests: slapd in a temporary directory on a free port.

The tree (``dc=example,dc=org``): a service account that may read the people and write their
passwords, three people (Erika and Max active, Ada "ausgetreten"), and a ppolicy default
policy (at least 14 characters, no reuse of the last three). Plain LDAP on 127.0.0.1 only.

For Active Directory's way of setting passwords, a small test schema gives Erika and Max an
auxiliary class with AD's ``unicodePwd`` (an octet string the service account may write; the
constraint overlay caps it at AD's 256 characters) and a binary ``objectGUID`` whose bytes
include ``(``, ``*``, ``)``, a backslash and NUL. slapd does not bind with ``unicodePwd``: binds
keep using ``userPassword``.

With ``tls=True`` slapd also speaks TLS: a throw-away CA and a server certificate for
``IP:127.0.0.1`` (made with the ``openssl`` command line in the temporary directory; a second,
unrelated CA for the "not trusted" case), ``ldaps://`` on a second port and StartTLS on the
``ldap://`` port, and ``security ssf=128``, so every operation but StartTLS itself is refused
without encryption: what works there provably went over TLS.

Tests that need it are skipped, with the reason, when slapd (or, for TLS, openssl) is not
installed; ``.ci/run`` installs both.
"""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ldap3 import MODIFY_REPLACE, SIMPLE, Connection, Server

from storage.ldap_directory import CheckedTls, LdapOptions, tls_context

if TYPE_CHECKING:
    from collections.abc import Iterator

BASE_DN: Final = "dc=example,dc=org"
PEOPLE_DN: Final = f"ou=people,{BASE_DN}"
SERVICE_DN: Final = f"cn=netzwerkbot,ou=services,{BASE_DN}"
SERVICE_PASSWORD: Final = "service-secret-4711"
ADMIN_DN: Final = f"cn=admin,{BASE_DN}"
ADMIN_PASSWORD: Final = "admin-secret-0815"
ERIKA_DN: Final = f"uid=erika,{PEOPLE_DN}"
MAX_DN: Final = f"uid=max,{PEOPLE_DN}"
ADA_DN: Final = f"uid=ada,{PEOPLE_DN}"
OLD_PASSWORD: Final = "Altes-Kennwort-Rheinufer-1"
ACTIVE_FILTER: Final = "(&(objectClass=inetOrgPerson)(!(employeeType=ausgetreten)))"
MIN_LENGTH: Final = 14
# Binary ids as AD's objectGUID: bytes that a filter must escape, and others.
ERIKA_GUID: Final = bytes.fromhex("282a295c00ff102030405060708090a0")
MAX_GUID: Final = bytes(range(16))
# AD takes at most 256 characters: quoted and UTF-16-LE, 2 * (256 + 2) bytes.
UNICODE_PWD_MAX_BYTES: Final = 2 * (256 + 2)
SCHEMA: Final = Path("/etc/ldap/schema")
MODULES: Final = Path("/usr/lib/ldap")
START_TIMEOUT: Final = 10.0

# AD's attributes under their AD OIDs; the auxiliary class under a UUID OID (2.25, X.667).
AD_SCHEMA: Final = """
attributetype ( 1.2.840.113556.1.4.90 NAME 'unicodePwd'
  DESC 'Active Directory password: quoted, UTF-16-LE (a test copy)'
  EQUALITY octetStringMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.2 NAME 'objectGUID'
  DESC 'Active Directory object id: 16 bytes (a test copy)'
  EQUALITY octetStringMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
objectclass ( 2.25.207295127203470307396418153330158911845 NAME 'netzwerkbotTestAdUser'
  DESC 'what the tests need of an AD user' AUXILIARY
  MAY ( unicodePwd $ objectGUID ) )
"""

TLS_CONFIG: Final = """
TLSCACertificateFile {tls}/ca.pem
TLSCertificateFile {tls}/server.pem
TLSCertificateKeyFile {tls}/server.key
security ssf=128
"""

CONFIG: Final = """
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
include {dir}/ad.schema
modulepath {modules}
moduleload back_mdb
moduleload ppolicy
moduleload constraint
pidfile {dir}/slapd.pid
{tls_config}
database mdb
suffix "{base}"
rootdn "{admin}"
rootpw {admin_password}
directory {dir}/data
maxsize 10485760
overlay ppolicy
ppolicy_default "cn=default,ou=policies,{base}"
overlay constraint
constraint_attribute unicodePwd size {unicode_pwd_max}
access to attrs=userPassword
  by dn.exact="{service}" write
  by anonymous auth
  by * none
access to attrs=unicodePwd
  by dn.exact="{service}" write
  by * none
access to *
  by dn.exact="{service}" read
  by self read
  by * none
"""

TREE: Final = """dn: {base}
objectClass: dcObject
objectClass: organization
dc: example
o: Beispiel

dn: ou=people,{base}
objectClass: organizationalUnit
ou: people

dn: ou=services,{base}
objectClass: organizationalUnit
ou: services

dn: ou=policies,{base}
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,{base}
objectClass: applicationProcess
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdMinLength: {min_length}
pwdCheckQuality: 2
pwdInHistory: 3

dn: {service}
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: netzwerkbot
userPassword: {service_password}

dn: {erika}
objectClass: inetOrgPerson
objectClass: netzwerkbotTestAdUser
objectGUID:: {erika_guid}
uid: erika
cn: Erika Muster
displayName: Dr. Erika Muster
sn: Muster
mail: Erika.Muster@example.org
ou: connect-it-heilbronn-franken
userPassword: {old}

dn: {max}
objectClass: inetOrgPerson
objectClass: netzwerkbotTestAdUser
objectGUID:: {max_guid}
uid: max
cn: Max Beispiel
displayName: Max Beispiel (MIT)
sn: Beispiel
mail: max.beispiel@example.org
ou: mit-pforzheim
userPassword: {old}

dn: {ada}
objectClass: inetOrgPerson
uid: ada
cn: Ada Ausgetreten
sn: Ausgetreten
mail: ada@example.org
employeeType: ausgetreten
userPassword: {old}
"""


# The throw-away CA and server certificate (EC P-256: quick to make). Only IP:127.0.0.1 in the
# certificate, so that "localhost" is a name it does not carry.
OPENSSL_CONFIG: Final = """
[req]
distinguished_name = dn
prompt = no
[dn]
CN = netzwerkbot test
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""
EC_KEY: Final = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")


def slapd_binary() -> Path | None:
    """Return slapd's path if it is installed (Debian puts it in /usr/sbin)."""
    found = shutil.which("slapd") or shutil.which("slapd", path="/usr/sbin:/usr/local/sbin")
    return Path(found) if found else None


def openssl_binary() -> Path | None:
    """Return the openssl command line's path if it is installed."""
    found = shutil.which("openssl")
    return Path(found) if found else None


def make_certificates(directory: Path) -> None:
    """Write ca.pem, server.pem, server.key and an unrelated other-ca.pem into ``directory``."""
    openssl = openssl_binary()
    assert openssl is not None
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "openssl.cnf"
    config.write_text(OPENSSL_CONFIG, encoding="utf-8")

    def run(*args: str) -> None:
        subprocess.run(  # noqa: S603 - fixed arguments, our own files
            [str(openssl), *args], check=True, capture_output=True, cwd=directory
        )

    for name, subject in (("ca", "/CN=netzwerkbot test CA"), ("other-ca", "/CN=someone else")):
        run(
            "req", "-x509", "-config", str(config), "-extensions", "ca", *EC_KEY,
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", subject,
        )  # fmt: skip
    run(
        "req", "-new", "-config", str(config), *EC_KEY,
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1",
    )  # fmt: skip
    run(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-set_serial", "4711", "-days", "2", "-out", "server.pem",
        "-extfile", str(config), "-extensions", "server",
    )  # fmt: skip


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Slapd:
    """A running slapd with the fixture tree."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    # TLS: ldaps:// on tls_port, StartTLS on port; nothing but StartTLS without encryption.
    tls: bool = False
    tls_port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        """Return the server's URL (plain, or StartTLS when TLS is on)."""
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        """Return the server's ldaps:// URL (TLS only)."""
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @property
    def ca_file(self) -> Path:
        """Return the CA certificate that signed the server's certificate (TLS only)."""
        return self.directory / "tls" / "ca.pem"

    @property
    def other_ca_file(self) -> Path:
        """Return a CA certificate that did not sign the server's certificate (TLS only)."""
        return self.directory / "tls" / "other-ca.pem"

    def options(self, **changes: object) -> LdapOptions:
        """Return the bot's options for this server (service account, the active filter)."""
        values: dict[str, object] = {
            "url": self.url,
            "bind_dn": SERVICE_DN,
            "bind_password": SERVICE_PASSWORD,
            "base_dn": BASE_DN,
            "active_filter": ACTIVE_FILTER,
            "timeout": 3.0,
        }
        values.update(changes)
        return LdapOptions(**values)  # type: ignore[arg-type]

    def start(self) -> None:
        """Write the configuration and the tree, then start slapd and wait until it listens."""
        binary = slapd_binary()
        assert binary is not None
        (self.directory / "data").mkdir(parents=True, exist_ok=True)
        (self.directory / "ad.schema").write_text(AD_SCHEMA, encoding="utf-8")
        tls_config = ""
        if self.tls:
            make_certificates(self.directory / "tls")
            tls_config = TLS_CONFIG.format(tls=self.directory / "tls")
        conf = self.directory / "slapd.conf"
        conf.write_text(
            CONFIG.format(
                schema=SCHEMA,
                modules=MODULES,
                dir=self.directory,
                tls_config=tls_config,
                unicode_pwd_max=UNICODE_PWD_MAX_BYTES,
                base=BASE_DN,
                service=SERVICE_DN,
                admin=ADMIN_DN,
                admin_password=ADMIN_PASSWORD,
            ),
            encoding="utf-8",
        )
        tree = self.directory / "tree.ldif"
        tree.write_text(
            TREE.format(
                base=BASE_DN,
                service=SERVICE_DN,
                service_password=SERVICE_PASSWORD,
                erika=ERIKA_DN,
                max=MAX_DN,
                ada=ADA_DN,
                old=OLD_PASSWORD,
                min_length=MIN_LENGTH,
                erika_guid=base64.b64encode(ERIKA_GUID).decode(),
                max_guid=base64.b64encode(MAX_GUID).decode(),
            ),
            encoding="utf-8",
        )
        slapadd = binary.with_name("slapadd")
        subprocess.run(  # noqa: S603 - fixed arguments
            [str(slapadd), "-q", "-f", str(conf), "-l", str(tree)],
            check=True,
            capture_output=True,
        )
        self.restart()

    def restart(self) -> None:
        """Start slapd (again) on the same port and data."""
        binary = slapd_binary()
        assert binary is not None
        conf = self.directory / "slapd.conf"
        listen = f"{self.url}/ {self.ldaps_url}/" if self.tls else f"{self.url}/"
        # -d 0: stay in the foreground, so the test owns the process and can stop it.
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [str(binary), "-d", "0", "-f", str(conf), "-h", listen],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        for port in (self.port, self.tls_port) if self.tls else (self.port,):
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("slapd did not start") from None
                    time.sleep(0.02)  # a real process starting up; no clock to advance

    def stop(self) -> None:
        """Stop slapd (the directory goes down)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _server(self) -> Server:
        """Return the server as the helpers below reach it (over ldaps:// when TLS is on)."""
        if not self.tls:
            return Server("127.0.0.1", port=self.port, connect_timeout=3)
        tls = CheckedTls("127.0.0.1", tls_context(self.ca_file))
        return Server("127.0.0.1", port=self.tls_port, use_ssl=True, tls=tls, connect_timeout=3)

    def bind(self, dn: str, password: str) -> bool:
        """Tell whether a simple bind as ``dn`` with ``password`` succeeds (as a website does)."""
        server = self._server()
        connection = Connection(
            server, user=dn, password=password, authentication=SIMPLE, receive_timeout=3
        )
        try:
            return bool(connection.bind())
        finally:
            connection.unbind()

    def attribute(self, dn: str, name: str) -> list[str]:
        """Return an attribute's values as the service account sees them."""
        return [value.decode() for value in self.raw_attribute(dn, name)]

    def raw_attribute(self, dn: str, name: str) -> list[bytes]:
        """Return an attribute's values as stored, as the service account sees them."""
        with Connection(self._server(), user=SERVICE_DN, password=SERVICE_PASSWORD) as connection:
            connection.search(dn, "(objectClass=*)", search_scope="BASE", attributes=[name])
            (found,) = [r for r in connection.response or () if r.get("type") == "searchResEntry"]
            return [bytes(value) for value in found["raw_attributes"].get(name) or []]

    def plain_bind_refused(self) -> bool:
        """Tell whether the service account's bind without TLS is refused (TLS only)."""
        server = Server("127.0.0.1", port=self.port, connect_timeout=3)
        connection = Connection(
            server, user=SERVICE_DN, password=SERVICE_PASSWORD, receive_timeout=3
        )
        try:
            # 13: confidentialityRequired
            return not connection.bind() and connection.result.get("result") == 13
        finally:
            connection.unbind()

    def set_attribute(self, dn: str, name: str, values: list[str]) -> None:
        """Replace an attribute's values, as the directory's administrator."""
        server = self._server()
        with Connection(server, user=ADMIN_DN, password=ADMIN_PASSWORD) as connection:
            assert connection.modify(dn, {name: [(MODIFY_REPLACE, values)]}), connection.result


def running_slapd(directory: Path, *, tls: bool = False) -> Iterator[Slapd]:
    """Start slapd in ``directory`` (with TLS if asked); stop it afterwards."""
    server = Slapd(directory, tls=tls)
    server.start()
    try:
        yield server
    finally:
        server.stop()
