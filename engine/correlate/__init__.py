"""The topology graph and the grouping of anomalies and alerts into incidents."""
