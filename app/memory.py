"""The garbage collector's full passes: outside requests, and over few objects.

A full collection walks every tracked object. A worker's objects are mostly long-lived:
what ``create_app`` builds (FAB's views, the mappers, the translations: some 220,000
objects) and what its requests add to caches (compiled templates and statements). Each
request also leaves a few reference cycles that only a full pass frees, so Python starts
one every dozen or so requests, inside whichever request allocates at that moment: it
cost that request 110-240 ms on a list page whose median is 33 ms (docs/performance.md,
"Slow single runs"). So, in a production worker:

* ``gc.freeze()`` moves the objects alive at that moment out of the collector's sight
  (as pre-fork servers do): start-up objects when the app is built
  (FREEZE_STARTUP_OBJECTS), and what the first requests added after the numbers of
  requests in GC_FREEZE_AFTER_REQUESTS;
* Python never starts a full pass by itself (GC_FULL_BETWEEN_REQUESTS): the young
  generations are collected as usual, and a full pass runs after a response has been
  sent (its ``call_on_close``) once as many younger collections have happened as
  Python would have waited for. The worker is busy for that moment; no request waits
  inside it.

Off in tests, which build many apps in one process: frozen, none would ever be freed.
"""
import gc
import itertools

# Python's own rule: a full pass after this many collections of the middle generation.
FULL_AFTER = gc.get_threshold()[2]
NEVER = 2 ** 31 - 1


def freeze():
    """Collect what is garbage now, then keep every surviving object out of full passes."""
    gc.collect()
    gc.freeze()


def _collect_if_due():
    if gc.get_count()[2] >= FULL_AFTER:
        gc.collect()


def init_app(app):
    if app.config.get("FREEZE_STARTUP_OBJECTS"):
        freeze()
    schedule = frozenset(app.config.get("GC_FREEZE_AFTER_REQUESTS") or ())
    between = app.config.get("GC_FULL_BETWEEN_REQUESTS")
    if not (schedule or between):
        return
    served = itertools.count(1)

    @app.after_request
    def collect_after_sending(response):
        number = next(served)
        if between and number == 1:
            # From the first request on: a command of the same app (a backup, `history
            # verify` over millions of entries) keeps Python's own full passes.
            young, middle, _full = gc.get_threshold()
            gc.set_threshold(young, middle, NEVER)
        if number in schedule:
            response.call_on_close(freeze)
        elif between:
            response.call_on_close(_collect_if_due)
        return response
