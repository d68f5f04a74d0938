"""Seeded generators of whole input streams (predictions, late labels) for tests and benchmarks.

They write nothing and read no clock: callers turn the events into ``vigil replay`` input files.
"""
