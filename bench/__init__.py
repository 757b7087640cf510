"""Load generators and benchmark runners (see each module's README section in bench/README.md)."""
