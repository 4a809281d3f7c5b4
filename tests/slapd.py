"""A real OpenLDAP server for the tests: slapd in a temporary directory on a free port.

The tree (``dc=example,dc=org``): a service account that may read the people and write their
passwords, three people (Erika and Max active, Ada "ausgetreten"), and a ppolicy default
policy (at least 14 characters, no reuse of the last three). Plain LDAP on 127.0.0.1 only.
Tests that need it are skipped, with the reason, when slapd is not installed; ``.ci/run``
installs it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ldap3 import MODIFY_REPLACE, SIMPLE, Connection, Server

from storage.ldap_directory import LdapOptions

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
SCHEMA: Final = Path("/etc/ldap/schema")
MODULES: Final = Path("/usr/lib/ldap")
START_TIMEOUT: Final = 10.0

CONFIG: Final = """
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
modulepath {modules}
moduleload back_mdb
moduleload ppolicy
pidfile {dir}/slapd.pid
database mdb
suffix "{base}"
rootdn "{admin}"
rootpw {admin_password}
directory {dir}/data
maxsize 10485760
overlay ppolicy
ppolicy_default "cn=default,ou=policies,{base}"
access to attrs=userPassword
  by dn.exact="{service}" write
  by anonymous auth
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
uid: erika
cn: Erika Muster
sn: Muster
mail: Erika.Muster@example.org
ou: connect-it-heilbronn-franken
userPassword: {old}

dn: {max}
objectClass: inetOrgPerson
uid: max
cn: Max Beispiel
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


def slapd_binary() -> Path | None:
    """Return slapd's path if it is installed (Debian puts it in /usr/sbin)."""
    found = shutil.which("slapd") or shutil.which("slapd", path="/usr/sbin:/usr/local/sbin")
    return Path(found) if found else None


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

    @property
    def url(self) -> str:
        """Return the server's URL."""
        return f"ldap://127.0.0.1:{self.port}"

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
        conf = self.directory / "slapd.conf"
        conf.write_text(
            CONFIG.format(
                schema=SCHEMA,
                modules=MODULES,
                dir=self.directory,
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
        # -d 0: stay in the foreground, so the test owns the process and can stop it.
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [str(binary), "-d", "0", "-f", str(conf), "-h", f"{self.url}/"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
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

    def bind(self, dn: str, password: str) -> bool:
        """Tell whether a simple bind as ``dn`` with ``password`` succeeds (as a website does)."""
        server = Server("127.0.0.1", port=self.port, connect_timeout=3)
        connection = Connection(
            server, user=dn, password=password, authentication=SIMPLE, receive_timeout=3
        )
        try:
            return bool(connection.bind())
        finally:
            connection.unbind()

    def attribute(self, dn: str, name: str) -> list[str]:
        """Return an attribute's values as the service account sees them."""
        server = Server("127.0.0.1", port=self.port, connect_timeout=3)
        with Connection(server, user=SERVICE_DN, password=SERVICE_PASSWORD) as connection:
            connection.search(dn, "(objectClass=*)", search_scope="BASE", attributes=[name])
            values = connection.entries[0][name].values
            return [v.decode() if isinstance(v, bytes) else str(v) for v in values]

    def set_attribute(self, dn: str, name: str, values: list[str]) -> None:
        """Replace an attribute's values, as the directory's administrator."""
        server = Server("127.0.0.1", port=self.port, connect_timeout=3)
        with Connection(server, user=ADMIN_DN, password=ADMIN_PASSWORD) as connection:
            assert connection.modify(dn, {name: [(MODIFY_REPLACE, values)]}), connection.result


def running_slapd(directory: Path) -> Iterator[Slapd]:
    """Start slapd in ``directory``; stop it afterwards."""
    server = Slapd(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
