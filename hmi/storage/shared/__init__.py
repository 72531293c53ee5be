"""What several stations on one PostgreSQL tell each other: user changes (``user_watch``)."""
