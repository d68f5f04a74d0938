"""All of Vigil's I/O: files, Kafka, HTTP receivers, the HTTP API, metrics, checkpoint stores.

Connectors import the engine (``engine``) and feed it typed events with event time; the engine
never imports connectors. Nothing in the engine reads a clock, a file or the environment: that
is done here.
"""
