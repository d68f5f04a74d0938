"""Vigil's pure core: typed events, stage operators with explicit state, and their wiring.

Owns: decoding and validating wire records (``ingest``), detection (``detect``), correlation on
the topology (``correlate``), root-cause ranking (``rank``), action decisions (``act``), rule
parsing (``rules``) and ``pipeline.py``, the one place that wires the stages.
Must not: open sockets or files, read clocks or environment variables, or import
``connectors``. Time comes in as ``now``; randomness from seeds kept in operator state.
"""
