"""The inbox's queries at scale: a generated organization with N conversations and 5N messages,
timed through the HTTP API of a real server (``python -m bench.inbox_queries --help``)."""
