"""End-to-end quality benchmark: raw telemetry through the real ``vigil replay`` pipeline."""
