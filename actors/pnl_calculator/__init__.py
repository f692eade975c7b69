"""Step 2: FIFO profit and loss per account from the fetched order book (fifo.py is the pure core)."""
