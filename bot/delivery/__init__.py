"""The sending engine: the send budget, the dispatcher, the circular runner, mail."""
