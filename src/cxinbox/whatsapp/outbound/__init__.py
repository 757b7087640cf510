"""Outbound delivery: a message and its outbox row written together, then sent by a job."""
