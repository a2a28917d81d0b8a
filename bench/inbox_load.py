"""待我处理 under concurrent load: gunicorn, N clients, each page view = the inbox page and
the menu count (what a browser fetches).

    BENCH_INBOX_URL=postgresql://postgres@127.0.0.1:5432/bench_inbox \\
        .venv/bin/python bench/inbox_load.py

Serves the app from a §8-scale database (a copy: bench/inbox_bench.py migrates it) with
gunicorn (BENCH_WORKERS, default 2, on 127.0.0.1), then BENCH_CLIENTS clients (default 8)
signed in as the accounts of BENCH_ACCOUNTS in turn view the inbox for BENCH_SECONDS
(default 30): GET /inbox/?page=<random page> then GET /inbox/count, again and again.
Prints requests per second, p50/p95/p99 per kind of request, and errors.
"""
import http.client
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "bench")]

URL = os.environ.get("BENCH_INBOX_URL") or os.environ.get("BENCH_DATABASE_URL")
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 8))
WORKERS = int(os.environ.get("BENCH_WORKERS", 2))
SECONDS = float(os.environ.get("BENCH_SECONDS", 30))
ACCOUNTS = os.environ.get("BENCH_ACCOUNTS", "it_staff,it_staff2,head_fin,admin").split(",")
# Every worker signs and reads the same session cookies.
SECRET = "inbox-load-bench-" + "k" * 32


def server_app():
    """gunicorn's app factory (``bench.inbox_load:server_app()``)."""
    import config
    from app import create_app

    cfg = type("LoadConfig", (config.TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": os.environ["INBOX_LOAD_URL"], "SECRET_KEY": SECRET})
    return create_app(cfg)


def cookies(app):
    """A session cookie per account, signed as a login would (login is not measured)."""
    from conftest_free import signed_in

    found = {}
    for username in ACCOUNTS:
        client, _user_id = signed_in(app, username)
        cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
        found[username] = f"{cookie.key}={cookie.value}"
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    if not URL:
        sys.exit("Set BENCH_INBOX_URL to a copy of the §8-scale database.")
    from inbox_bench import make_app

    os.environ["INBOX_LOAD_URL"] = URL
    app = make_app(URL)  # migrated to head
    app.config["SECRET_KEY"] = SECRET
    sessions = cookies(app)
    with app.app_context():
        from app.approvals import inbox_count
        from app.base import AppUser
        from app.extensions import db

        pages = {u: max(1, math.ceil(inbox_count(db.session.query(AppUser).filter_by(
            username=u).one()) / app.config["INBOX_PAGE_SIZE"])) for u in ACCOUNTS}
    port = free_port()
    server = subprocess.Popen(
        [os.path.join(ROOT, ".venv", "bin", "gunicorn"), "--workers", str(WORKERS),
         "--bind", f"127.0.0.1:{port}", "--chdir", ROOT, "--log-level", "warning",
         "bench.inbox_load:server_app()"], cwd=ROOT)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        results, errors, lock = {"page": [], "count": []}, [], threading.Lock()
        deadline = [None]

        def client(number):
            username = ACCOUNTS[number % len(ACCOUNTS)]
            headers = {"Cookie": sessions[username]}
            rng = random.Random(number)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            while time.monotonic() < deadline[0]:
                for kind, path in (("page", f"/inbox/?page={rng.randint(1, pages[username])}"),
                                   ("count", "/inbox/count")):
                    start = time.perf_counter()
                    try:
                        conn.request("GET", path, headers=headers)
                        response = conn.getresponse()
                        response.read()
                        status = response.status
                    except (OSError, http.client.HTTPException) as error:
                        status = repr(error)
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    elapsed = (time.perf_counter() - start) * 1000
                    with lock:
                        if status == 200:
                            results[kind].append(elapsed)
                        else:
                            errors.append((username, path, status))

        # warm every worker
        for username in ACCOUNTS:
            for _ in range(WORKERS * 2):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", "/inbox/", headers={"Cookie": sessions[username]})
                conn.getresponse().read()
        deadline[0] = time.monotonic() + SECONDS
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    total = sum(len(v) for v in results.values())
    print(f"{URL.split(':')[0]}: gunicorn {WORKERS} "
          f"workers, {CLIENTS} clients ({', '.join(ACCOUNTS)}), {SECONDS:.0f} s: "
          f"{total / SECONDS:.1f} requests/s, {len(errors)} errors")
    for kind, times in results.items():
        times.sort()
        if times:
            pick = [times[min(len(times) - 1, math.ceil(len(times) * q) - 1)]
                    for q in (0.95, 0.99)]
            print(f"  {kind:6} n={len(times):5}  p50 {statistics.median(times):7.1f} ms  "
                  f"p95 {pick[0]:7.1f} ms  p99 {pick[1]:7.1f} ms")
    for error in errors[:5]:
        print("  error:", error)


if __name__ == "__main__":
    main()
