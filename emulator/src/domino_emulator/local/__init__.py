"""local: run the pipeline on one machine (a real MLflow server; the Domino emulator lives beside)."""
