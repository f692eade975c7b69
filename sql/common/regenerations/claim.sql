-- Link a pending row to the order made from it, in the transaction that inserts the order and before
-- anything is sent: a claimed row is no longer pending, so a Step 9 that stops before it marks the row
-- never places the entry a second time. Index: ux_regenerate_archived_order.
UPDATE entry_regenerate
SET new_order_id = ?, updated_at = ?
WHERE user_id = ? AND archived_order_id = ? AND status IS NULL AND new_order_id IS NULL;
