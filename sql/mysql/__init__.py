"""MySQL 8 / MariaDB 10.6+ dialect: `%s` placeholders (aiomysql), migrations and named queries."""
