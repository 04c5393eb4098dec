"""Live updates for agents' screens."""
