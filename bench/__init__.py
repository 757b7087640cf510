"""Load generators and benchmark runners (``python -m bench.<name> --help``)."""
