"""``vigil serve``: the live embedded runtime (HTTP ingest, input journal, local checkpoints).

Owns the input journal (what was accepted, on disk before it is answered), the live runtime
that drives the pipeline from it with the wall clock, and the state folder's layout. It must
not re-wire the pipeline: the edges (intake, pipeline, outputs, delivery) are the replay's.
"""
