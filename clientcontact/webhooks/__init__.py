"""HTTP routes providers call: read, verify, store raw, acknowledge."""
