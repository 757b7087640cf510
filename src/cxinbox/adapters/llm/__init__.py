"""Clients for the LLM providers' own wire formats, behind one registry (``registry.py``)."""
