"""Stored files: attachments of messages, kept outside the database."""
