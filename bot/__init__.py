"""netzwerkbot: the Telegram assistant of the IT Bündnis BW."""
