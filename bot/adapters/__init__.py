"""Adapters: the only code that knows a platform. Each turns native input into Incoming and a
Reply into the platform's own output."""
