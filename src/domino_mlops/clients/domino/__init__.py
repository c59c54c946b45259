"""Domino's REST API: one module per area (client.py composes them); value types
(types.py, serving_types.py, job_types.py, app_types.py) import no HTTP library."""
