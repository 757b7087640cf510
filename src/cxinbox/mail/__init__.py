"""Transactional email: queued with the unit of work, sent by a retried job."""
