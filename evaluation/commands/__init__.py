"""Flask CLI commands by area; each module lists its commands in ``COMMANDS``."""
