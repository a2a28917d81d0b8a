"""Exports of 200,000 and 1,000,000 rows: time to first byte, total time, peak memory.

    .venv/bin/python bench/export_bench.py                 # SQLite, /tmp/bench_export.db
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wt_export_bench \\
        .venv/bin/python bench/export_bench.py
    .venv/bin/python bench/export_bench.py --gunicorn      # + the worker timeout check

Builds its own database once (kept; BENCH_REUSE=0 rebuilds it): migrations, the demo
data, then 1,000,000 operation-log rows by Core INSERT (200,000 of the finance
department, 800,000 of the others; texts of about 100 characters). Then, for each
format (CSV, Excel) and size (the finance department's 200,000 rows by the list's
department filter; the whole list, 1,000,000 rows), a fresh child process signs in as
admin, posts the export through the WSGI app (no network) and reads the streamed body
chunk by chunk: it prints the time to the first body byte, the total time, the bytes,
and the process's peak RSS (``VmHWM``) before the export and at its end: memory is flat
when the peak does not grow with the row count.

``--gunicorn`` (``--gunicorn-only``: nothing else): serves the database with gunicorn
(1 sync worker, ``--timeout 10``) and downloads the finance department's 200,000-row CSV
over HTTP twice: with the project's gunicorn.conf.py
(the export reports the worker alive) and without it (``-c /dev/null``): gunicorn kills
the worker that sends for longer than its timeout, so the second download is cut.
"""
import argparse
import csv
import datetime as dt
import http.cookiejar
import io
import os
import re
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT]

URL = os.environ.get("BENCH_DATABASE_URL", "sqlite:////tmp/bench_export.db")
TOTAL = int(os.environ.get("BENCH_EXPORT_ROWS", 1_000_000))
FINANCE = TOTAL // 5
BATCH = 10_000
PASSWORD = "Demo-Pass-2026"
TEXT = "例行巡检：服务器、数据库与备份作业状态正常，已核对告警阈值与日志容量。" * 3


def app_for(url):
    from config import Config

    os.environ.setdefault("APP_CONFIG", "config.Config")
    from app import create_app

    config = type("BenchConfig", (Config,), {"SQLALCHEMY_DATABASE_URI": url,
                                             "WTF_CSRF_ENABLED": True,
                                             "RATELIMIT_ENABLED": False})
    return create_app(config)


def build(url):
    from sqlalchemy import create_engine, func, select, text

    engine = create_engine(url)
    if os.environ.get("BENCH_REUSE", "1") == "1":
        try:
            with engine.connect() as conn:
                have = conn.execute(text("SELECT count(*) FROM operation_log")).scalar()
            if have >= TOTAL:
                print(f"reusing {url}: {have:,} operation-log rows")
                return
        except Exception:
            pass
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if os.path.exists(path):
            os.unlink(path)
    else:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    app = app_for(url)
    with app.app_context():
        from flask_migrate import upgrade

        from app.base import AppUser
        from app.extensions import db
        from app.operations.models import OperationKind, OperationLog, OperationResult
        from app.organisation.models import Department, InformationSystem
        from seeds import load_reference
        from seeds.demo import load_demo

        upgrade()
        load_reference()
        load_demo()
        fin = db.session.scalar(select(Department.id).where(Department.code == "FIN"))
        systems = db.session.execute(select(InformationSystem.id,
                                            InformationSystem.owning_department_id)).all()
        fin_systems = [s for s in systems if s[1] == fin]
        other_systems = [s for s in systems if s[1] != fin]
        operator = db.session.scalar(select(AppUser.id).where(AppUser.username == "it_staff"))
        kinds, results = list(OperationKind), list(OperationResult)
        start = dt.datetime(2020, 1, 1)
        table = OperationLog.__table__
        began = time.perf_counter()
        with db.engine.begin() as conn:
            for first in range(0, TOTAL, BATCH):
                rows = []
                for n in range(first, min(first + BATCH, TOTAL)):
                    system, department = (fin_systems if n < FINANCE else other_systems)[
                        n % len(fin_systems if n < FINANCE else other_systems)]
                    at = start + dt.timedelta(minutes=3 * n)
                    rows.append({
                        "system_id": system, "department_id": department,
                        "kind": kinds[n % len(kinds)].name, "performed_at": at,
                        "operator_id": operator, "content": f"{n} {TEXT[:90]}",
                        "result": results[n % 7 == 0].name, "unauthorised": False,
                        "created_on": at, "changed_on": at,
                        "created_by_fk": operator, "changed_by_fk": operator})
                conn.execute(table.insert(), rows)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("ANALYZE operation_log"))
        count = db.session.scalar(select(func.count()).select_from(table))
        print(f"loaded {count:,} operation-log rows in {time.perf_counter() - began:.0f} s")


def peak_rss_mb():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\s+(\d+) kB", status.read()).group(1)) / 1024


def rss_mb():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+) kB", status.read()).group(1)) / 1024


def measure(url, fmt, department_only):
    """In this (fresh) process: one export, streamed; prints one line of JSON-ish text."""
    app = app_for(url)
    client = app.test_client()
    html = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    assert client.post("/login/", data={"username": "admin", "password": PASSWORD,
                                        "csrf_token": token}).status_code == 302
    html = client.get("/resetmypassword/form").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    query = ""
    if department_only:
        with app.app_context():
            from app.extensions import db
            from app.organisation.models import Department

            fin = db.session.query(Department.id).filter_by(code="FIN").scalar()
        query = f"?_flt_0_department={fin}"
    # Warm up (imports, the first list page) so the baseline is the app's own.
    client.get("/operationlogview/list/")
    before = peak_rss_mb()
    started = time.perf_counter()
    response = client.post(f"/operationlogview/export/{fmt}{query}",
                           data={"csrf_token": token}, buffered=False)
    first = None
    size = 0
    peak_during = 0.0
    for index, chunk in enumerate(response.response):
        if chunk and first is None:
            first = time.perf_counter() - started
        size += len(chunk)
        if index % 200 == 0:
            peak_during = max(peak_during, rss_mb())
    total = time.perf_counter() - started
    response.close()
    print(f"RESULT fmt={fmt} rows={response.headers.get('X-Export-Rows')} "
          f"first_byte_s={first:.2f} total_s={total:.1f} bytes={size:,} "
          f"peak_rss_before_mb={before:.0f} peak_rss_after_mb={peak_rss_mb():.0f}")


def run_children(url):
    for fmt in ("csv", "xlsx"):
        for department_only in (True, False):
            out = subprocess.run([sys.executable, __file__, "--child", fmt,
                                  "dept" if department_only else "all"],
                                 capture_output=True, text=True, cwd=ROOT,
                                 env={**os.environ, "BENCH_DATABASE_URL": url})
            lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT")]
            print(lines[0] if lines else out.stderr[-2000:], flush=True)


def gunicorn_check(url, timeout=10, port=18561):
    """The finance department's 200,000-row CSV over HTTP from one sync worker with
    ``--timeout``, with and without the project's gunicorn.conf.py."""
    for label, config in (("with gunicorn.conf.py", "gunicorn.conf.py"),
                          ("without it (-c /dev/null)", "/dev/null")):
        server = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-c", config,
             "--workers", "1", "--timeout", str(timeout), "--bind", f"127.0.0.1:{port}",
             "app:create_app()"], cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
            env={**os.environ, "DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url})
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/login/", timeout=2)
                    break
                except Exception:
                    time.sleep(0.3)
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            html = opener.open(f"{base}/login/").read().decode()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                              html).group(1)
            body = urllib.parse.urlencode({"username": "admin", "password": PASSWORD,
                                           "csrf_token": token}).encode()
            opener.open(f"{base}/login/", data=body)
            html = opener.open(f"{base}/resetmypassword/form").read().decode()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                              html).group(1)
            started = time.perf_counter()
            with app_for(url).app_context():
                from app.extensions import db
                from app.organisation.models import Department

                fin = db.session.query(Department.id).filter_by(code="FIN").scalar()
            response = opener.open(f"{base}/operationlogview/export/csv"
                                   f"?_flt_0_department={fin}",
                                   data=urllib.parse.urlencode({"csrf_token": token})
                                   .encode(), timeout=600)
            expected = int(response.headers["X-Export-Rows"])
            records, cut = 0, None
            try:  # CSV records, not lines: a text may hold a line break
                for _record in csv.reader(io.TextIOWrapper(response, encoding="utf-8-sig",
                                                           newline="")):
                    records += 1
            except Exception as exc:  # the connection ends when the worker is killed
                cut = type(exc).__name__
            took = time.perf_counter() - started
            print(f"GUNICORN {label}: timeout {timeout} s, {took:.0f} s, "
                  f"{records - 1:,} of {expected:,} rows"
                  + (f" (cut: {cut})" if cut else "")
                  + (" COMPLETE" if records - 1 == expected else " INCOMPLETE"), flush=True)
        finally:
            server.terminate()
            _out, err = server.communicate(timeout=30)
            killed = [line for line in err.splitlines() if "TIMEOUT" in line or
                      "WORKER TIMEOUT" in line]
            if killed:
                print("   gunicorn:", killed[0].strip())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "SIZE"))
    parser.add_argument("--gunicorn", action="store_true")
    parser.add_argument("--gunicorn-only", action="store_true")
    args = parser.parse_args(argv)
    if args.child:
        measure(URL, args.child[0], args.child[1] == "dept")
        return
    build(URL)
    if args.gunicorn_only:
        gunicorn_check(URL, port=18562)
        return
    run_children(URL)
    if args.gunicorn:
        gunicorn_check(URL)


if __name__ == "__main__":
    main()
