"""SQLite dialect: `?` placeholders (sqlite3), migrations and named queries."""
