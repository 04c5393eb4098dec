"""The outbound path: send queued messages, classify failures, move status forward."""
