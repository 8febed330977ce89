"""Stand-in servers for the platforms, used by the end-to-end tests."""
