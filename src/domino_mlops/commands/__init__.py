"""One module per CLI command: read arguments, call the library, report. Nothing else."""
