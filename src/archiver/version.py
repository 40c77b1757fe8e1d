"""The version of archiver, in one place (the wheel's metadata and the User-Agent say it)."""

__version__ = "0.1.0"
