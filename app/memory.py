"""Objects that live as long as the worker, kept out of the garbage collector's full passes.

A full collection walks every tracked object. A worker's objects are mostly long-lived:
what ``create_app`` builds (FAB's views, the mappers, the translations: some 220,000
objects) and what its first requests add (compiled templates and statements, loaded
catalogues). Each request also leaves a few reference cycles that only a full pass
frees, so a full pass comes every dozen or so requests, and walking every object cost
the request that triggered it 110-240 ms (a list page whose median is 33 ms:
docs/performance.md, "Slow single runs"). ``gc.freeze()`` moves the objects alive at
that moment out of the collector's sight (as pre-fork servers do): start-up objects when
the app is built (FREEZE_STARTUP_OBJECTS), and what the first requests added after the
numbers of requests in GC_FREEZE_AFTER_REQUESTS, once the response has been sent (its
``call_on_close``), so no one waits for it. Off in tests, which build many apps: frozen,
none of them would ever be freed.
"""
import gc
import itertools


def freeze():
    """Collect what is garbage now, then keep every surviving object out of full passes."""
    gc.collect()
    gc.freeze()


def init_app(app):
    if app.config.get("FREEZE_STARTUP_OBJECTS"):
        freeze()
    schedule = frozenset(app.config.get("GC_FREEZE_AFTER_REQUESTS") or ())
    if not schedule:
        return
    served = itertools.count(1)

    @app.after_request
    def freeze_when_warm(response):
        if next(served) in schedule:
            response.call_on_close(freeze)
        return response
