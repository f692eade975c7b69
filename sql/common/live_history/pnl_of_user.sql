-- The day's PnL figures of every account of the user (summed exactly in Python, never by SQL on text
-- money). Index: ix_live_history_user_account (its leading user_id).
SELECT realized_pnl, unrealized_pnl FROM bo_live_history WHERE user_id = ?;
