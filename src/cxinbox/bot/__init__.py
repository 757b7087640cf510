"""The bot (area F): configs and their providers, intents, usage, tests, classification, handoff
summaries and the writing assist."""
