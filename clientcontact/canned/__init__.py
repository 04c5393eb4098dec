"""Canned responses: an account's saved answers, inserted into a reply by short code."""
