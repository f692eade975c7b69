"""Every test process has a broker-secret key: the store seals account keys and tokens with it."""

import tests.secret_key  # noqa: F401  (sets MONITOR_SECRET_KEY when unset)
