"""The bot studio: prompt versions, presets, the bundle (export, import, snapshots, templates) and
feedback on the bot's messages."""
