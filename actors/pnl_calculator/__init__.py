"""The PnL step: FIFO profit and loss per account from the fetched order book (fifo.py is the pure core)."""
