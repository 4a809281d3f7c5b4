"""German (and later other) gettext catalogs, shipped as package data."""
