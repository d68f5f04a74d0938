"""Online detectors: metric baselines and forecasts, log anomalies, ML drift and performance."""
