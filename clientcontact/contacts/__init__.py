"""Contacts and the addresses and numbers they are reached at."""
