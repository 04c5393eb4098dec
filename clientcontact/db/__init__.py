"""Database engine, units of work, tenancy scoping and migrations."""
