"""Credentials -> principal: JWT access tokens, refresh families, API keys, roles, tenant context."""
