"""Local stand-ins for external services, so the real client libraries can run offline."""
