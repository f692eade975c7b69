-- Write a leg's tag before the order goes to the broker (intent first), version-checked. Index: primary key.
UPDATE orders SET
    entry_tag = CASE WHEN %s = 'entry' THEN %s ELSE entry_tag END,
    sl_tag = CASE WHEN %s = 'sl' THEN %s ELSE sl_tag END,
    tp_tag = CASE WHEN %s = 'tp' THEN %s ELSE tp_tag END,
    version = version + 1,
    updated_at = %s
WHERE id = %s AND user_id = %s AND version = %s;
