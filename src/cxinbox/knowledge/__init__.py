"""The knowledge base: documents the bot answers from, their ingestion and hybrid retrieval."""
