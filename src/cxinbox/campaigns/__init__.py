"""Campaigns: one approved template sent to many recipients, at a cost known before sending."""
