"""Handler modules, one per user-facing feature; each exposes ``handlers()``."""
