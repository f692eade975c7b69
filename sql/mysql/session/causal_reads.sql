-- On a Galera node only (session/wsrep_on), once per pooled connection: every read and BEGIN first waits until
-- this node has applied every write set the cluster committed before it (wsrep_sync_wait = 1), so a read
-- sees what another replica wrote through another node, as it would on one server: a lease taken over, a
-- fence's rerun after a certification failure seeing the winner, a user or token added elsewhere. No index.
SET SESSION wsrep_sync_wait = 1;
