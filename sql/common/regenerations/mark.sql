-- Settle one pending row as PLACED (new order id) or FAILED (reason; the claimed order id stays). Index: primary key.
UPDATE entry_regenerate
SET status = ?, new_order_id = COALESCE(?, new_order_id), failure_reason = ?, updated_at = ?
WHERE id = ? AND user_id = ? AND status IS NULL;
