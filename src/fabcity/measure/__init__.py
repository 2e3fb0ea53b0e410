"""Measurement: the Fab City Index, input–output regionalisation, activation and resilience indicators."""
