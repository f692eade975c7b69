-- Whether the server is a node of a Galera cluster (a row 'ON'); no row on a server built without wsrep
-- (MySQL), 'OFF' on a MariaDB not in a cluster. Read once when the pool is made. No index.
SHOW VARIABLES LIKE 'wsrep_on';
