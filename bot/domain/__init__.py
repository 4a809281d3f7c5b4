"""Pure logic and the domain model: no Telegram, no SQL, nothing else of the project."""
