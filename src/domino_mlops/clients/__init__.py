"""Clients for the services we talk to (MLflow, Domino); raw JSON and foreign exceptions stop here."""
