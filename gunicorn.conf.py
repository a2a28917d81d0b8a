"""gunicorn reads this file from the working directory (``make serve``, the README's
production command). A sync worker is killed when it has not reported alive for
``timeout`` seconds, and it does not report while it sends a response: an export of a
million rows (app/export.py) would be killed half-way. Each worker hands its heartbeat
to the export, which calls it after every batch of rows it sends."""


def post_worker_init(worker):
    from app.export import set_heartbeat

    set_heartbeat(worker.notify)
