"""Replies: parse incoming mail, classify it, match it to campaigns and ingest it."""
