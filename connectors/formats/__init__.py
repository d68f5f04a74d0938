"""Decoders of the formats other tools send: Prometheus remote write, OTLP, CI/CD webhooks.

Each turns a request or record body into the wire contract's typed events
(``engine.events``) and ``Rejected`` dead letters with a reason, never an exception. They do no
I/O (the HTTP routes are in ``connectors/http``, the Kafka decoding in
``connectors/kafka/decoder.py``); they live under ``connectors/`` because they need the
protobuf libraries, which the pure engine does not import. The label mapping is
docs/ingest.md.
"""
