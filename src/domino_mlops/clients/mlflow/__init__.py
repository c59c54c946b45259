"""MLflow's REST API: the registry (registry.py), batched reads (reader.py), artifacts,
credentials; value types (types.py) import no HTTP library."""
