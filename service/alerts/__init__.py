"""Alerts by webhook and Telegram: trouble a trader should hear of away from the screen.

`alert.py` is what an alert is; `signals.py` reads alerts (and the end of their conditions) off events and
hooks; `policy.py` decides, as pure code, which go out (once per condition, a few a minute per user);
`channels.py` sends them; `notifier.py` wires these together on the service's I/O loop.
"""
