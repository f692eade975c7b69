-- Settle one pending row as PLACED (new order id) or FAILED (reason; the claimed order id stays). Index: primary key.
UPDATE entry_regenerate
SET status = %s, new_order_id = COALESCE(%s, new_order_id), failure_reason = %s, updated_at = %s
WHERE id = %s AND user_id = %s AND status IS NULL;
