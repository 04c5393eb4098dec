"""The inbound path: store raw provider events, then route them."""
