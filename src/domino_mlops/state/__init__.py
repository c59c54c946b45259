"""What runs leave in MLflow for later runs to read: the ledger (entries.py holds its values,
ledger.py reads and writes them) and the leases (lease.py)."""
