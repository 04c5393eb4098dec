"""Conversations, their messages, notes, activity and tags."""
