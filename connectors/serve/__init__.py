"""``vigil serve``: the live embedded runtime (HTTP ingest, input journal, local checkpoints).

Owns the input journal (what was accepted, on disk before it is answered), the live runtime
that feeds it to the shared runner with the wall clock, and the state folder's layout. It must
not re-wire the pipeline: the edges are ``connectors.runner.Runner``'s, the outputs go to the
replay's sink.
"""
