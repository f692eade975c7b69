"""Storage: the Store and EventLog ports, MySQL (aiomysql) and SQLite adapters, named SQL loaded from sql/."""
