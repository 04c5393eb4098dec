"""Message content: HTML sanitizing, text derivation and threading, independent of channels."""
