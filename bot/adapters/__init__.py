"""Adapters: the only code that knows a platform (native input in, rendered Reply out)."""
