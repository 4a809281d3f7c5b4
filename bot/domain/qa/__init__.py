"""Understanding German free-text messages: normalising, the lexicon, entities, intents."""
