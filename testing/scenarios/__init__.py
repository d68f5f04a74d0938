"""Seeded generators of whole input streams for the demo, tests and benchmarks: a shop of services
with a bad deploy (``shop``), prediction streams with injected drift (``predictions``), a fraud
model with late labels (``fraud``).

They write nothing and read no clock: callers turn the events into ``vigil replay`` input files.
"""
