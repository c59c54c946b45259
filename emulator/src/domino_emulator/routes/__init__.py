"""The emulator's HTTP routes, one module per family of Domino's API; server.build_router registers them."""
