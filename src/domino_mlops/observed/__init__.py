"""observed: read-only queries of MLflow and Domino -> frozen snapshots."""
