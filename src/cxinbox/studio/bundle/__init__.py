"""The bot bundle: a versioned document of sections that areas register (see ``registry``)."""
