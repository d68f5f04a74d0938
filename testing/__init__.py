"""Test and benchmark inputs that are not part of the engine: seeded scenario generators."""
