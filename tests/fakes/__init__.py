"""Provider fakes on loopback: the real SDKs talk to them over HTTP and SMTP."""
