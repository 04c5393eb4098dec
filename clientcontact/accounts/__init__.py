"""Accounts (tenants), agents, teams, logins and API tokens."""
