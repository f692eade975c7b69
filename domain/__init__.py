"""The trading vocabulary every layer shares: orders and legs, broker records, errors, time, ports."""
