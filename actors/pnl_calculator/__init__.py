"""The PnL worker: pure FIFO matching of an account's fills (fifo.py); its pykka shell comes with Step 2."""
