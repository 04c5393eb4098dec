"""Inboxes: one per receiving endpoint (an email address, a phone number, a WhatsApp sender)."""
