"""Outbound I/O only: each adapter speaks one external protocol and knows no domain."""
