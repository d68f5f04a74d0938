"""The incident console: a web page served by Vigil's own HTTP server at ``/``.

Owns the page (``static/``: plain ES modules, no build step; uPlot vendored under
``static/vendor/uplot`` with its MIT licence), the JSON it needs (``routes``), and the bounded
memory behind it (``recorder``, ``series``). Must not hold engine state: it only watches what a
runtime feeds it. How a runtime serves it:

1. ``recorder = ConsoleRecorder()``; ``mount_console(app_state, recorder)`` before the HTTP
   server starts (sets ``static_dir``, adds the console routes);
2. per batch, on the server's event loop: ``app_state.incidents.apply(outputs)`` and
   ``recorder.observe(batch, outputs)``; after delivery ``recorder.record_actions(finals)``.

``ConsoleSession`` does all of that for the embedded replay (``vigil demo --serve``).
"""
