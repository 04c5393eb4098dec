"""The mock provider: records what would have been sent."""
