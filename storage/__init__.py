"""Storage: SQLite, append-only migrations and one store per aggregate."""
