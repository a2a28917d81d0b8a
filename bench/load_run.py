"""A load run from outside: two gunicorn instances on one PostgreSQL, 16 clients.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_pages \\
        .venv/bin/python bench/load_run.py [--seconds 60] [--clients 16] [--workers 3]

The run takes workflow steps, so it works on a copy: ``CREATE DATABASE <name>_load TEMPLATE
<name>`` (nobody else may be connected to <name> meanwhile), dropped afterwards; with
``--in-place`` it writes to the database itself (then never point it at a shared template).

Starts two instances of the product as production runs it (``config.ProductionConfig``,
gunicorn, ``--workers`` sync workers each, on two loopback ports), sharing one PostgreSQL
database and one Redis (``RATELIMIT_STORAGE_URI``, default redis://127.0.0.1:6379/0: the
failed-login counters of app/login_guard.py, which production refuses to run without) and
one SECRET_KEY, as servers behind a load balancer do. Then ``--clients`` threads (stdlib
``http.client``, one keep-alive connection per instance) log in through the login form as
several roles (ITStaff, DeptHead, Clerk, Management, Auditor, Admin) and, for ``--seconds``,
each sends its requests alternately to the two instances (round robin: a session made on
one instance must hold on the other). What a client does, drawn at random:

* a list (default, a deep page or sorted by a column) of the records its role works on;
* a record page, opened from a row of a list it has seen;
* its inbox (待我处理) or the home page;
* a workflow step through the REST API (ITStaff: start, resolve and close incidents;
  DeptHead: approve its department's project requests): GET the record (its version and
  the steps the user may take now), then POST the step with that version. Clients of the
  same role draw from the same records, so two of them do collide on one record;

and after every HTML page the menu's inbox count, as the browser does.

Reports throughput, p50/p95/p99 (overall and per kind of request) and errors. An error is
any answer that is not 2xx/3xx (a redirect to the login page counts: a session that one
instance does not accept), a connection failure or a timeout, EXCEPT a 409 to a workflow
step: that is the product refusing a step on a record another client moved first
(optimistic locking; README "Exactly once"). 409s are counted and shown as
"conflicts (expected)"; a 409 anywhere else is an error. The peak RSS of every gunicorn
worker is read from /proc (``VmHWM``) before a clean shutdown (SIGTERM, then wait).
Writes the results as JSON (``--json``, default bench/results/load-run.json). Exits 1 when
there was any error.
"""
import argparse
import http.client
import json
import math
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlencode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT]

PASSWORD = os.environ.get("DEMO_PASSWORD", "Demo-Pass-2026")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# 16 clients by default: who they are (cycled when --clients differs).
CLIENTS = ["it_staff", "it_staff2", "head_fin", "clerk_fin", "manager", "auditor", "admin",
           "it_staff", "head_fin", "clerk_fin", "it_staff2", "manager", "it_staff",
           "clerk_fin", "auditor", "head_fin"]
# The lists each kind of user works in (route base, sort keys to try).
LISTS = {
    "it": [("incidentview", ["title", "occurred_at"]), ("contractview", ["amount", "number"]),
           ("changerequestview", ["change_number"]), ("projectrequestview", ["name"]),
           ("informationsystemview", ["code"])],
    "department": [("incidentview", ["title", "occurred_at"]),
                   ("projectrequestview", ["name", "budget"]),
                   ("changerequestview", ["change_number"]),
                   ("datasharingrequestview", ["title"]),
                   ("informationsystemview", ["code"])],
    "oversight": [("incidentview", ["title", "severity"]), ("contractview", ["amount"]),
                  ("projectrequestview", ["budget"]), ("auditfindingview", ["due_date"]),
                  ("expertreviewview", ["score"])],
    "audit": [("incidentview", ["title", "severity"]), ("contractview", ["amount"]),
              ("auditfindingview", ["due_date"]), ("changelog", ["occurred_at"])],
}
KIND_OF = {"it_staff": "it", "it_staff2": "it", "admin": "it", "head_fin": "department",
           "clerk_fin": "department", "manager": "oversight", "auditor": "audit"}
VIEW_NAMES = {"changelog": "ChangeLogView"}
SESSION_RE = re.compile(r"\bsession=[^;,\s]+")
SHOW_RE = re.compile(r'href="(/[a-z]+view/show/\d+)"')


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, share):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# ------------------------------------------------------------------ servers

class Instance:
    """One gunicorn master with its workers, as production runs the product."""

    def __init__(self, name, port, workers, env):
        self.name, self.port = name, port
        log = open(os.path.join(ROOT, "bench", "results", f"load-{name}.log"), "w")
        self.process = subprocess.Popen(
            [os.path.join(ROOT, ".venv", "bin", "gunicorn"), "--workers", str(workers),
             "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout", "20",
             "app:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.log = log
        self.peaks = {}

    def wait_ready(self, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn {self.name} exited ({self.process.returncode}); "
                                 f"see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/login/")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"gunicorn {self.name} did not answer within {timeout} s")

    def workers(self):
        """Pids of the master's worker processes (from /proc)."""
        children = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                children.append(int(entry))
        return children

    def sample_memory(self):
        """Peak resident set of each worker so far (VmHWM), kept per pid."""
        for pid in self.workers():
            try:
                with open(f"/proc/{pid}/status") as handle:
                    status = dict(line.split(":", 1) for line in handle if ":" in line)
            except OSError:
                continue
            peak = int(status["VmHWM"].split()[0]) / 1024
            self.peaks[pid] = max(self.peaks.get(pid, 0), peak)

    def stop(self):
        """SIGTERM (graceful: workers finish their request), then wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
        return self.process.returncode


# ------------------------------------------------------------------ clients

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times = {}
        self.errors = []
        self.error_count = 0
        self.conflicts = 0
        self.steps = 0
        self.requests = 0

    def add(self, kind, elapsed, ok, detail=None, conflict=False):
        with self.lock:
            self.requests += 1
            self.times.setdefault(kind, []).append(elapsed)
            if conflict:
                self.conflicts += 1
            elif not ok:
                self.error_count += 1
                if len(self.errors) < 30:
                    self.errors.append(detail)


class Client(threading.Thread):
    """One person at a browser (and a script on the API), alternating between instances."""

    def __init__(self, number, username, ports, stats, deadline, seed, shared):
        super().__init__(name=f"client-{number}-{username}", daemon=True)
        self.username, self.ports, self.stats = username, ports, stats
        self.deadline, self.random = deadline, random.Random(seed)
        self.shared = shared
        self.kind = KIND_OF.get(username, "oversight")
        self.connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                            for port in ports]
        self.turn = number % len(ports)
        self.cookie = None
        self.token = None
        self.records = []

    # -- HTTP -------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, kind=None, step=False,
                cookie=True):
        headers = dict(headers or {})
        if self.cookie and cookie and "Authorization" not in headers:
            headers["Cookie"] = self.cookie
        self.turn = (self.turn + 1) % len(self.connections)
        conn = self.connections[self.turn]
        start = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            elapsed = (time.perf_counter() - start) * 1000
            if kind:
                self.stats.add(kind, elapsed, False, f"{method} {path}: {exc!r}")
            return None, b"", {}
        elapsed = (time.perf_counter() - start) * 1000
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
        found = SESSION_RE.search(response.getheader("Set-Cookie") or "")
        if found and "Cookie" in headers or found and self.cookie is None:
            # The browser's cookie; an API call (JWT, no cookie) never replaces it.
            self.cookie = found.group(0)
        status = response.status
        location = response.getheader("Location", "") or ""
        if kind:
            conflict = step and status == 409
            ok = 200 <= status < 400 and "/login" not in location
            self.stats.add(kind, elapsed, ok, f"{method} {path} -> {status} {location} "
                                              f"{data[:200]!r}", conflict=conflict)
            if step and 200 <= status < 300:
                with self.stats.lock:
                    self.stats.steps += 1
        return status, data, response

    def login(self):
        status, html, _ = self.request("GET", "/login/")
        match = CSRF_RE.search(html.decode("utf-8", "replace")) if html else None
        if not match:
            raise RuntimeError(f"{self.username}: no login form ({status})")
        body = urlencode({"username": self.username, "password": PASSWORD,
                          "csrf_token": match.group(1)})
        status, _data, response = self.request(
            "POST", "/login/", body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302 or "/login" in (response.getheader("Location") or ""):
            raise RuntimeError(f"{self.username}: login refused ({status})")
        status, data, _ = self.request(
            "POST", "/api/v1/security/login",
            body=json.dumps({"username": self.username, "password": PASSWORD,
                             "provider": "db"}),
            headers={"Content-Type": "application/json"}, cookie=False)
        if status != 200:
            raise RuntimeError(f"{self.username}: API login refused ({status})")
        self.token = json.loads(data)["access_token"]

    # -- what a person does ----------------------------------------------------
    def page(self, path, kind):
        status, data, _ = self.request("GET", path, kind=kind)
        # The menu's inbox count, fetched by every page the browser shows.
        self.request("GET", "/inbox/count", kind="inbox count",
                     headers={"X-Requested-With": "XMLHttpRequest"})
        return data.decode("utf-8", "replace") if data else ""

    def open_list(self):
        base, sorts = self.random.choice(LISTS[self.kind])
        view = VIEW_NAMES[base]
        choice = self.random.random()
        args = {}
        if choice < 0.25:
            args[f"page_{view}"] = self.random.choice([5, 50, 200])
        elif choice < 0.55:
            args[f"_oc_{view}"] = self.random.choice(sorts)
            args[f"_od_{view}"] = self.random.choice(["asc", "desc"])
        path = f"/{base}/list/" + (f"?{urlencode(args)}" if args else "")
        html = self.page(path, "list")
        found = SHOW_RE.findall(html)
        if found:
            self.records = (self.records + found)[-200:]

    def open_record(self):
        if not self.records:
            return self.open_list()
        self.page(self.random.choice(self.records), "record page")

    def step(self):
        """One workflow step through the API on a record of the shared pool."""
        pool = self.shared.get(self.username.rstrip("0123456789"))
        if not pool:
            return self.open_list()
        resource, pk, wanted = self.random.choice(pool)
        auth = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        status, data, _ = self.request("GET", f"/api/v1/{resource}/{pk}", headers=auth,
                                       kind="API record")
        if status != 200:
            return
        body = json.loads(data)
        names = [t["name"] for t in body.get("transitions", [])]
        move = next((name for name in wanted if name in names), None)
        if move is None:
            return  # nothing left to do here for this user: draw again next time
        payload = {"comment": "load run", "version": body["version"]}
        if move == "resolve":
            payload.update(root_cause="负载测试：根因", resolution="负载测试：已处理")
        self.request("POST", f"/api/v1/{resource}/{pk}/transition/{move}",
                     body=json.dumps(payload), headers=auth, kind="workflow step", step=True)

    def run(self):
        try:
            self.login()
        except RuntimeError as exc:
            self.stats.add("login", 0, False, str(exc))
            return
        acts = [(self.open_list, 0.35), (self.open_record, 0.3),
                (lambda: self.page("/inbox/", "inbox"), 0.12),
                (lambda: self.page("/", "home"), 0.05)]
        if self.shared.get(self.username.rstrip("0123456789")):
            acts.append((self.step, 0.18))
        total = sum(weight for _act, weight in acts)
        while time.time() < self.deadline:
            point, chosen = self.random.random() * total, acts[-1][0]
            for act, weight in acts:
                point -= weight
                if point <= 0:
                    chosen = act
                    break
            chosen()
        for conn in self.connections:
            conn.close()


def view_names():
    """Route base -> FAB view class name (the suffix of its paging and sort arguments)."""
    from app.chapters import record_views

    for view in record_views():
        VIEW_NAMES[view.__name__.lower()] = view.__name__


def step_pool(url, size=400):
    """Records on which the step clients will act, drawn from the database once:
    incidents still open (ITStaff: start, resolve, close) and project requests
    of the DeptHead's department waiting for its approval."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        incidents = [r[0] for r in conn.execute(text(
            "SELECT id FROM incident WHERE status IN ('reported', 'in_progress', 'resolved') "
            "ORDER BY id DESC LIMIT :n"),
            {"n": size})]
        projects = [r[0] for r in conn.execute(text(
            "SELECT p.id FROM project_request p JOIN department d "
            "ON d.id = p.applicant_department_id WHERE d.code = 'FIN' "
            "AND p.status = 'dept_review' ORDER BY p.id DESC LIMIT :n"), {"n": size})]
    engine.dispose()
    return {"it_staff": [("incident", pk, ("start", "resolve", "close")) for pk in incidents],
            "head_fin": [("project_request", pk, ("approve",)) for pk in projects]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="the PostgreSQL database to run on (copied first, see --in-place)")
    parser.add_argument("--redis", default=os.environ.get("RATELIMIT_STORAGE_URI",
                                                          "redis://127.0.0.1:6379/0"))
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per instance")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--in-place", action="store_true",
                        help="write to the database itself instead of a throwaway copy")
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "results",
                                                       "load-run.json"))
    args = parser.parse_args(argv)
    if not args.url or not args.url.startswith("postgresql"):
        parser.error("a PostgreSQL --url or BENCH_DATABASE_URL is needed")
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    if args.in_place:
        return load_run(args, args.url)
    copy = throwaway_copy(args.url)
    try:
        return load_run(args, copy)
    finally:
        drop(copy)


def _admin(url):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def throwaway_copy(url):
    """``<name>_load``, a copy of the database made by PostgreSQL (CREATE DATABASE ...
    TEMPLATE): the loaded volumes stay as they were."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    source = make_url(url)
    target = source.set(database=f"{source.database}_load")
    engine = _admin(url)
    started = time.time()
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}"'))
        conn.execute(text(f'CREATE DATABASE "{target.database}" TEMPLATE "{source.database}"'))
    engine.dispose()
    print(f"copied {source.database} to {target.database} in {time.time() - started:.0f} s",
          file=sys.stderr)
    return target.render_as_string(hide_password=False)


def drop(url):
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    engine = _admin(url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}"'))
    engine.dispose()


def load_run(args, url):
    env = dict(os.environ, APP_CONFIG="config.ProductionConfig", DATABASE_URL=url,
               SECRET_KEY=secrets.token_hex(32), RATELIMIT_STORAGE_URI=args.redis,
               SESSION_COOKIE_SECURE="0", FLASK_APP="app:create_app")
    shared = step_pool(url)
    view_names()
    instances = [Instance(name, free_port(), args.workers, env) for name in ("a", "b")]
    stats = Stats()
    try:
        for instance in instances:
            instance.wait_ready()
        started = time.time()
        deadline = started + args.seconds
        clients = [Client(n, CLIENTS[n % len(CLIENTS)], [i.port for i in instances], stats,
                          deadline, args.seed + n, shared) for n in range(args.clients)]
        for client in clients:
            client.start()
        while any(client.is_alive() for client in clients):
            for instance in instances:
                instance.sample_memory()
            time.sleep(1)
        elapsed = time.time() - started
        for instance in instances:
            instance.sample_memory()
    finally:
        codes = [instance.stop() for instance in instances]
    everything = [t for times in stats.times.values() for t in times]
    result = {
        "seconds": round(elapsed, 1), "clients": args.clients, "instances": len(instances),
        "workers_per_instance": args.workers, "requests": stats.requests,
        "throughput_per_s": round(stats.requests / elapsed, 1),
        "p50_ms": round(percentile(everything, 0.50), 1),
        "p95_ms": round(percentile(everything, 0.95), 1),
        "p99_ms": round(percentile(everything, 0.99), 1),
        "errors": stats.error_count, "conflicts_409": stats.conflicts,
        "workflow_steps_done": stats.steps,
        "by_kind": {kind: {"requests": len(times),
                           "p50_ms": round(percentile(times, 0.5), 1),
                           "p95_ms": round(percentile(times, 0.95), 1),
                           "p99_ms": round(percentile(times, 0.99), 1)}
                    for kind, times in sorted(stats.times.items())},
        "worker_peak_rss_mb": {f"{i.name}:{pid}": round(mb, 1) for i in instances
                               for pid, mb in sorted(i.peaks.items())},
        "shutdown_exit_codes": codes, "error_samples": stats.errors,
    }
    print(f"## Load run: {len(instances)} gunicorn instances x {args.workers} workers, "
          f"{args.clients} clients, {result['seconds']:.0f} s, PostgreSQL + Redis\n")
    print("| requests | per second | p50 ms | p95 ms | p99 ms | errors | 409 conflicts "
          "(expected) | steps done | peak RSS per worker MB |\n|---|---|---|---|---|---|---|---|---|")
    peaks = result["worker_peak_rss_mb"].values()
    print(f"| {stats.requests} | {result['throughput_per_s']} | {result['p50_ms']} | "
          f"{result['p95_ms']} | {result['p99_ms']} | {stats.error_count} | {stats.conflicts} | "
          f"{stats.steps} | {min(peaks, default=0):.0f}–{max(peaks, default=0):.0f} |\n")
    print("| request | count | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|")
    for kind, row in result["by_kind"].items():
        print(f"| {kind} | {row['requests']} | {row['p50_ms']} | {row['p95_ms']} | "
              f"{row['p99_ms']} |")
    print(f"\nShutdown: exit codes {codes} (0 = clean)")
    for sample in stats.errors[:10]:
        print(f"  error: {sample}")
    with open(args.json, "w") as handle:
        json.dump(result, handle, ensure_ascii=False, indent=1)
    print(f"Results written to {os.path.relpath(args.json)}")
    budget = []
    if stats.error_count:
        budget.append(f"{stats.error_count} errors")
    if result["p95_ms"] >= 1000:
        budget.append("p95 >= 1 s")
    if max(peaks, default=0) >= 300:
        budget.append("a worker's peak RSS >= 300 MB")
    print("Budget (zero errors, p95 < 1 s, RSS < 300 MB per worker): "
          + ("; ".join(budget) if budget else "met"))
    return 1 if stats.error_count or any(codes) else 0


if __name__ == "__main__":
    sys.exit(main())
