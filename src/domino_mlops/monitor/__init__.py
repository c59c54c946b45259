"""Monitoring exported images: prediction records from a spool -> per-interval metrics -> Domino.

records.py (values), aggregate.py (pure: intervals, statistics, drift, alert ranges), spool.py
(the image's own spool module, loaded), state.py (what the agent has flushed), agent.py (the loop).
"""
