"""Serving stored files by URL: public keys (avatars, logos) openly, private keys by signed URL."""
