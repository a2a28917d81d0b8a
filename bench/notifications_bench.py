"""Notifications at PRODUCT.md §8 people scale: 500 departments, 5,000 users.

    .venv/bin/python bench/notifications_bench.py [--url URL]

On a fresh database (default: a new SQLite file under instance/; a PostgreSQL URL is
emptied first) it loads the demo, then the departments and users of bench/scale.py, then
times: the steps that notify one department's heads and all 50 IT officers (the step
alone and the same step with its notifications, so the difference is what notifying
costs), and the bell's count and a page of the list for a user with 100,000
notifications, 50,000 of them unread.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "bench"), os.path.join(ROOT, "tests")]


def timed(function, repeat=20):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=None)
    args = parser.parse_args(argv)
    from conftest import reset_database, seeded_app

    url = args.url
    if url is None:
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(dir=os.path.join(ROOT, "instance")),
                                          "notifications_bench.db")
    elif url.startswith("postgresql"):
        reset_database(url)
    app = seeded_app(url)
    with app.app_context(), app.test_request_context():
        from flask import g
        from sqlalchemy import func, insert, select

        from app.approvals import perform
        from app.base import AppUser, Approval, Attachment, Notification
        from app.extensions import db
        from app.notifications import notifications_page, unread_count
        from app.organisation.models import Department
        from app.planning.models import ProjectRequest
        from scale import Loader

        Loader(app, 1.0).organisation()
        users = db.session.query(func.count(AppUser.id)).scalar()
        departments = db.session.query(func.count(Department.id)).scalar()
        print(f"{departments} departments, {users} users")

        def user(name):
            return db.session.query(AppUser).filter_by(username=name).one()

        clerk, head, it = user("clerk_fin"), user("head_fin"), user("it_staff")
        fin = clerk.department_id
        report = Attachment(filename="r.pdf", content_type="application/pdf", size=1,
                            sha256="0" * 64, data=b"%")
        db.session.add(report)
        db.session.commit()

        def project():
            record = ProjectRequest(name="通知基准项目", applicant_department_id=fin,
                                    background="b", goals="g", content="c", budget=1000,
                                    implementation_plan="p", requirements_report=report)
            db.session.add(record)
            db.session.commit()
            return record

        def steps(with_notifications):
            """Submit (FIN's heads told) and approve (every IT officer told), timed."""
            from app import notifications

            listener = notifications.notify_steps
            from sqlalchemy import event
            from sqlalchemy.orm import Session

            if not with_notifications:
                event.remove(Session, "after_flush", listener)
            submit, approve = [], []
            try:
                for _ in range(15):
                    record = project()
                    for name, actor, into in (("submit", clerk, submit),
                                              ("approve", head, approve)):
                        g.user = actor
                        start = time.perf_counter()
                        perform(record, name, actor)
                        into.append((time.perf_counter() - start) * 1000)
            finally:
                if not with_notifications:
                    event.listen(Session, "after_flush", listener)
            return statistics.median(submit), statistics.median(approve)

        bare = steps(False)
        told = steps(True)
        it_officers = db.session.query(func.count(Notification.id)).join(
            Approval, Approval.id == Notification.approval_id).filter(
            Approval.transition == "approve").scalar() // 15
        print(f"submit (1 head told): {bare[0]:.1f} ms without, {told[0]:.1f} ms with "
              "notifications (median of 15)")
        print(f"approve ({it_officers} IT officers told): {bare[1]:.1f} ms without, "
              f"{told[1]:.1f} ms with notifications (median of 15)")

        # A user with 100,000 notifications, half of them unread.
        some = db.session.query(Approval.id).first()[0]
        rows = [{"user_id": it.id, "kind": "waiting", "approval_id": some,
                 "record_type": "ProjectRequest", "record_id": 1, "title": "x",
                 "created_on": clerk.created_on, "read_at": None if i % 2 else clerk.created_on}
                for i in range(100_000)]
        for i in range(0, len(rows), 20_000):
            db.session.execute(insert(Notification), rows[i:i + 20_000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(db.text("ANALYZE notification"))
            db.session.commit()
        print("bell count (it_staff, 50,000 unread): median %.2f ms, p95 %.2f ms"
              % timed(lambda: unread_count(db.session, it.id)))
        print("list page 1 (unread, 20 a page): median %.2f ms, p95 %.2f ms"
              % timed(lambda: notifications_page(db.session, it.id, True, 1, 20)))
        print("list page 1,000 (all): median %.2f ms, p95 %.2f ms"
              % timed(lambda: notifications_page(db.session, it.id, False, 1000, 20)))
        total = db.session.scalar(select(func.count(Notification.id)))
        print(f"{total} notifications in the table")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
