-- Write a leg's tag before the order goes to the broker (intent first), version-checked. Index: primary key.
UPDATE orders SET
    entry_tag = CASE WHEN ? = 'entry' THEN ? ELSE entry_tag END,
    sl_tag = CASE WHEN ? = 'sl' THEN ? ELSE sl_tag END,
    tp_tag = CASE WHEN ? = 'tp' THEN ? ELSE tp_tag END,
    version = version + 1,
    updated_at = ?
WHERE id = ? AND user_id = ? AND version = ?;
