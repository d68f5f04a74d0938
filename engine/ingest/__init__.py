"""Raw records to typed events: wire decoding and validation, log templating, event time."""
