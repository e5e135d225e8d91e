"""Benchmark: public pages and the API under 200 concurrent clients: four processes, nginx's
microcache in front of them, and one process.

The job: one site on PostgreSQL (the fictional demo municipality with its published run,
seeded by tests/jobs/seed_site.py into a database of its own) served three ways, one after the
other, in one run:

* **scaled**: ``gunicorn tryg.site.wsgi`` with 4 worker processes (gthread, 8 threads each,
  keep-alive) and the shared cache in Redis (``TRYG_CACHE_URL``), as a production site runs;
* **nginx microcache**: Debian's nginx in front of those same four workers with the
  configuration tryg ships (src/tryg/site/deploy/nginx.conf: anonymous answers kept one
  second, one request per page and second to the app servers), as the documented option;
* **one process**: ``tryg serve`` (waitress, 8 threads) with the per-process cache (the
  embedded default).

For each, Debian's ``wrk`` (2 threads, 200 connections, each asking as fast as it is
answered, a closed loop with no think time) asks for a mix of public pages (front page, map,
methods, and 12 area pages, in Danish, accepting gzip: as a browser) and then for a mix of
public API endpoints, for ``--seconds`` each after a short warm-up (each URL asked once first,
so the pages are in the cache). Reported per row: requests per second, p50/p95/p99 latency,
errors (connection errors, timeouts, non-2xx answers), and the CPU time the server processes
(the app servers, and nginx in its row) spent per request (from /proc: on a machine shared
with other work, a steadier measure of cost than the wall clock).

With a closed loop the mean latency is the number of clients over the throughput (Little's
law): 200 clients at 2,000 requests/s wait 100 ms on average whatever the server does, so the
p99 target (under 100 ms for cached pages) is a throughput target in disguise on a machine this
size. The load generator runs on the same (2-core, shared) machine as the servers.

Run from the repository root: ``.venv/bin/python bench/web_scale.py`` (PostgreSQL at
``TRYG_BENCH_POSTGRES_URL``, default postgres://postgres@127.0.0.1:5432/h_ops_bench, created
and dropped; Redis at ``TRYG_BENCH_REDIS_URL``, default redis://127.0.0.1:6379/7, emptied).
The table is printed and written to bench/results/web_scale.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import RESULTS_DIR, machine, markdown_table

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "tests" / "jobs" / "seed_site.py"
NGINX_SAMPLE = ROOT / "src" / "tryg" / "site" / "deploy" / "nginx.conf"
CLIENTS = 200
TICKS = os.sysconf("SC_CLK_TCK")

LUA = r"""
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1],
                    {["Accept-Encoding"] = "gzip", ["Accept-Language"] = "da"})
end
done = function(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, '
    .. '"write": %d, "status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d, '
    .. '"max": %d}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds of process ``root`` and every process below it (from /proc;
    live processes only, so read it while the servers run)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def nginx_config(work: Path, port: int, upstream: int) -> str:
    """The shipped sample (src/tryg/site/deploy/nginx.conf) with this run's addresses and
    folders, plain http on the loopback (no certificates), in a whole nginx.conf."""
    sample = NGINX_SAMPLE.read_text()
    # the sample's cache folder is on tmpfs (/dev/shm): this run's own folder there
    site = (sample.replace("/dev/shm/nginx-tryg", str(work / "cache"))
            .replace("listen 443 ssl;", f"listen 127.0.0.1:{port} backlog=2048;")
            .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
            .replace("listen 80;", f"listen 127.0.0.1:{free_port()};"))
    site = "\n".join(line for line in site.splitlines() if "ssl_certificate" not in line)
    temp = " ".join(f"{kind}_temp_path {work / kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # nginx as a production server runs it: a master and one worker per core (workers as
    # root, so that they read this run's folders; ignored with a warning when not root)
    return (f"daemon off;\nworker_processes 2;\nuser root;\npid {work / 'nginx.pid'};\n"
            f"error_log {work / 'error.log'} warn;\nworker_rlimit_nofile 8192;\n"
            "events { worker_connections 4096; }\n"
            f"http {{\naccess_log off;\n{temp}\n{site}\n}}\n")


def serve_nginx(work: Path, port: int, upstream: int) -> subprocess.Popen[bytes]:
    binary = nginx_binary()
    assert binary is not None
    work.mkdir(parents=True, exist_ok=True)
    conf = work / "nginx.conf"
    conf.write_text(nginx_config(work, port, upstream))
    return subprocess.Popen([binary, "-p", str(work), "-c", str(conf), "-e",
                             str(work / "error.log")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


APP_CPU = r"""
import io, json, sys, time
from tryg.site.wsgi import application
paths = json.loads(sys.argv[1])
def environ(path):
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1", "HTTP_ACCEPT_ENCODING": "gzip",
            "HTTP_ACCEPT_LANGUAGE": "da", "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr, "SERVER_PROTOCOL": "HTTP/1.1"}
seen = []
def start(status, headers, exc_info=None):
    seen.append(status)
def ask(path):
    answer = application(environ(path), start)
    b"".join(answer)
    answer.close()
for _ in range(3):
    for path in paths:
        ask(path)
assert all(s.startswith("200") for s in seen), set(seen)
rounds = []
for _ in range(5):
    start_cpu = time.thread_time()
    for _ in range(40):
        for path in paths:
            ask(path)
    rounds.append((time.thread_time() - start_cpu) / (40 * len(paths)))
print(json.dumps(sorted(rounds)[2]))
"""


def app_cpu_ms(env: dict[str, str], paths: list[str]) -> float:
    """CPU milliseconds per cached page inside the WSGI application, no server (median of five
    rounds of 40 × the pages, after each page was asked three times), one thread."""
    done = subprocess.run([sys.executable, "-c", APP_CPU, json.dumps(paths)],
                          env={**env, "DJANGO_SETTINGS_MODULE": "tryg.site.settings"},
                          capture_output=True, text=True, check=True)
    return 1000 * float(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(data_dir: Path, database: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRYG_", "DJANGO_", "DATABASE_URL"))}
    env.update({"TRYG_DATA_DIR": str(data_dir), "DATABASE_URL": database,
                "TRYG_SECRET_KEY": "bench-only-" + "x" * 40, "TRYG_WARM_ON_PUBLISH": "0",
                "TRYG_ALLOWED_HOSTS": "127.0.0.1,localhost", **extra})
    return env


def fresh_database(url: str) -> None:
    import psycopg

    head, _, name = url.rpartition("/")
    with psycopg.connect(f"{head}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    head, _, name = url.rpartition("/")
    with psycopg.connect(f"{head}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_answering(base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{base} did not answer")


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as answer:
        return bytes(answer.read())


def page_paths(base: str) -> list[str]:
    areas = json.loads(get(f"{base}/api/areas"))
    codes = [a["code"] for a in areas][:12]
    return ["/", "/map/", "/methods/", *(f"/areas/{c}/" for c in codes)]


API_PATHS = ["/api/areas", "/api/measures", "/api/waves", "/api/runs"]


def run_wrk(base: str, paths: list[str], seconds: float, folder: Path,
            servers: list[int]) -> dict[str, Any]:
    listing = folder / "paths.txt"
    listing.write_text("\n".join(paths) + "\n")
    script = folder / "mix.lua"
    script.write_text(LUA)
    for path in paths:  # every page once: rendered and in the cache before the clock runs
        get(base + path)
    env = dict(os.environ, WRK_PATHS=str(listing))
    subprocess.run(["wrk", "-t2", f"-c{CLIENTS}", "-d2s", "-s", str(script), base],
                   env=env, capture_output=True, check=True)
    before = sum(cpu_seconds(pid) for pid in servers)
    done = subprocess.run(["wrk", "-t2", f"-c{CLIENTS}", f"-d{seconds:.0f}s", "--timeout",
                           "10s", "-s", str(script), base], env=env, capture_output=True,
                          text=True, check=True)
    used = sum(cpu_seconds(pid) for pid in servers) - before
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_JSON "))
    found: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    found["cpu_s"] = used
    return found


def serve(kind: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    if kind == "scaled":
        command = [str(Path(sys.executable).with_name("gunicorn")), "tryg.site.wsgi:application",
                   "-w", "4", "-k", "gthread", "--threads", "8", "-b", f"127.0.0.1:{port}",
                   "--log-level", "warning", "--backlog", "2048"]
    else:
        command = [sys.executable, "-m", "tryg.cli.main", "serve", "--no-worker", "--port",
                   str(port), "--threads", "8"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


SETUPS = [("scaled", "4 × gunicorn (gthread 8), PostgreSQL, Redis cache", True),
          ("single", "1 × tryg serve (waitress 8), PostgreSQL, local cache", False)]
NGINX_LABEL = "nginx microcache (1 s) → the 4 × gunicorn"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="measured seconds per row (default 10)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found (apt-get install -y wrk)")
    database = os.environ.get("TRYG_BENCH_POSTGRES_URL",
                              "postgres://postgres@127.0.0.1:5432/h_ops_bench")
    redis_url = os.environ.get("TRYG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    fresh_database(database)
    rows: list[list[str]] = []
    try:
        with (tempfile.TemporaryDirectory(prefix="tryg-bench-scale-") as tmp,
              tempfile.TemporaryDirectory(prefix="tryg-bench-nginx-", dir="/dev/shm") as mem):
            folder, shm = Path(tmp), Path(mem)
            seeded = subprocess.run([sys.executable, str(SEED), "bench-password-1"],
                                    env=environment(folder / "seed", database),
                                    capture_output=True, text=True, check=False)
            if seeded.returncode != 0:
                raise SystemExit(seeded.stderr[-3000:])
            load_before = os.getloadavg()
            app_cpu: list[tuple[str, float]] = []
            for kind, label, extra in SETUPS:
                port = free_port()
                server = serve(kind, environment(folder / kind, database, **(
                    {"TRYG_CACHE_URL": redis_url} if extra else {})), port)
                base = f"http://127.0.0.1:{port}"
                proxies: list[subprocess.Popen[bytes]] = []
                try:
                    wait_answering(base, server)
                    targets = [(label, base, [server.pid])]
                    if kind == "scaled" and nginx_binary() is not None:
                        proxy_port = free_port()
                        proxies.append(serve_nginx(shm / "nginx", proxy_port, port))
                        proxy = f"http://127.0.0.1:{proxy_port}"
                        wait_answering(proxy, proxies[0])
                        targets.append((NGINX_LABEL, proxy, [server.pid, proxies[0].pid]))
                    env = environment(folder / kind, database, **(
                        {"TRYG_CACHE_URL": redis_url} if extra else {}))
                    app_cpu.append((label, app_cpu_ms(env, page_paths(base))))
                    for name, url, pids in targets:
                        for what, paths in (("public pages (cached)", page_paths(url)),
                                            ("public API", API_PATHS)):
                            result = run_wrk(url, paths, args.seconds, folder, pids)
                            rows.append(_row(name, what, len(paths), result))
                            print(" | ".join(rows[-1]), flush=True)
                finally:
                    for process in [*proxies, server]:
                        process.send_signal(signal.SIGTERM)
                        process.wait(timeout=60)
    finally:
        drop_database(database)
    report(rows, args.seconds, load_before, app_cpu)


def _row(label: str, what: str, urls: int, r: dict[str, Any]) -> list[str]:
    seconds = r["duration_us"] / 1e6
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return [label, f"{what} ({urls} URLs)", f"{r['requests'] / seconds:,.0f}",
            f"{r['p50'] / 1000:.1f}", f"{r['p95'] / 1000:.1f}", f"{r['p99'] / 1000:.1f}",
            f"{errors} ({r['status']} non-2xx, {r['timeout']} timeouts)",
            f"{1000 * r['cpu_s'] / max(r['requests'], 1):.2f}"]


def report(rows: list[list[str]], seconds: float, before: tuple[float, float, float],
           app_cpu: list[tuple[str, float]]) -> None:
    header = ["server", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
              "server CPU ms/req"]
    load = os.getloadavg()
    text = "\n".join([
        "# Web scale: 200 concurrent clients: four processes, nginx's microcache, one process",
        "",
        f"`bench/web_scale.py`: wrk, 2 threads, {CLIENTS} connections, closed loop, "
        f"{seconds:.0f} s per row after a 2 s warm-up; pages in Danish accepting gzip.",
        "",
        markdown_table(header, rows),
        "",
        f"Load average before the run: {before[0]:.2f} / {before[1]:.2f} / {before[2]:.2f}; "
        f"after: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
        f"({os.cpu_count()} cores, shared with other work). Server CPU: user + system seconds "
        "of the server processes during the row (nginx and the app servers in nginx's rows) "
        "over its requests.",
        "",
        "CPU per cached page inside the application (the WSGI app called in one thread, no "
        "server, no network; median of 5 rounds of 40 × the 15 pages):",
        "",
        *(f"- {label.split(', ', 1)[1]}: {ms:.3f} ms" for label, ms in app_cpu),
        "",
        *(f"- {k}: {v}" for k, v in machine(("Django", "gunicorn", "waitress", "redis",
                                               "psycopg"), with_r=False).items()),
        "",
    ])
    print(text)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "web_scale.md").write_text(text)


if __name__ == "__main__":
    main()
