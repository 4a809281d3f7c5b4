"""Network addresses: what counts as this machine (plain protocols are allowed only there)."""

from __future__ import annotations

import ipaddress
from typing import Final

LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain"})


def is_loopback(host: str) -> bool:
    """Tell whether a host name or address is this machine's loopback."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
