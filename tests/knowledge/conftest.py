"""The business's API on 127.0.0.1 (data sources call it through a connection), shared with tools."""

from tests.tools.conftest import business_api, private_urls_refused

__all__ = ["business_api", "private_urls_refused"]
