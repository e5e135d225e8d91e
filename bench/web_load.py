"""Benchmark: the public area page under 20 concurrent clients, against a trivial Django view.

The job: the demo site (``tryg demo --no-serve``, the fictional municipality with its published
run) served by ``tryg serve`` (waitress, its default 8 threads, one process) on the loopback,
and 20 clients asking for pages as fast as they are answered, each on its own keep-alive
connection. Measured for each URL: requests per second and the p50/p95 latency.

It is compared, in the same run and in the same server process, with **the floor**: the
trivial view ``/healthz`` (``"ok"``, no database, no template), which costs what waitress and
Django's middleware cost and nothing more. The area page ``/areas/<code>/`` of one neighbourhood
is the page under test (a second row asks for every neighbourhood's page in turn, so one
cached page cannot stand for all). Each URL is asked for once before the clients start (the
first answer after a publication renders the page; the later ones may come from a cache), and
the clients then warm up for 2 s before the measured window. Every answer is checked: status
200 and, for the area pages, the area's name and an SVG chart in the HTML; an answer
byte-identical to one already checked passes without being inflated and searched again.

The clients ask as a browser does: in Danish, accepting gzip (the site stores each page
compressed once). A last row asks without gzip, as a client that does not accept it would; it
is reported but is not a target row.

The load generator is a small threading client on the standard library's ``http.client`` (one
thread and one persistent connection per client), in this process; the server is a subprocess,
so the two do not share a GIL. On a 2-core machine both compete for the cores, which is the
same for the floor and the page, so the ratio is fair even where the absolute numbers are not.

**Cold pages.** Before any of that, right after the publication and with nothing cached (the
server has just started on the demo published by ``tryg demo``), every area's page is asked for
once in Danish and once in English, one after another, and each answer timed: the first
visitor's wait. The first of these requests also reads the published run's public table, once
per publication and process (reported on its own). Then, with the server stopped, the same
renders are timed in-process by bench/cold_render.py (cache cleared before each page), which
is less sensitive to a loaded machine. The load average is reported with the numbers.

Run from the repository root: ``.venv/bin/python bench/web_load.py`` (``--quick`` for a
smoke run of 3 s per URL). The table is printed and written to bench/results/web_load.md.
Targets: the area page's throughput at least half the trivial view's; every cold area page
answered within 0.5 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS_DIR, machine, markdown_table

TRYG = Path(sys.executable).parent / "tryg"
#: A neighbourhood (nabolag) of the fictional demo municipality.
AREA_CODE = "9999-01-01"
AREA_NAME = "Alvrerup Nord"
TARGET = 0.5
#: Seconds the first visitor of an area page may wait (right after a publication).
COLD_TARGET = 0.5


@dataclass
class Load:
    """What the clients measured for one URL (or list of URLs)."""

    label: str
    target: bool = True
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1000 if self.latencies else float("nan")


def site_environment(data_dir: Path) -> dict[str, str]:
    """A user's environment: SQLite in the data folder, no other TRYG_* or database setting."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRYG_", "DJANGO_", "DATABASE_URL"))}
    env["TRYG_DATA_DIR"] = str(data_dir)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def fetch(conn: http.client.HTTPConnection, path: str,
          gzip: bool = True, language: str = "da") -> tuple[int, bytes, bool]:
    """One request as a browser makes it (Danish unless told, gzip accepted): status, the
    body as it travelled, and whether it is gzip-compressed."""
    headers = {"Accept-Language": language}
    if gzip:
        headers["Accept-Encoding"] = "gzip, deflate, br"
    conn.request("GET", path, headers=headers)
    answer = conn.getresponse()
    return answer.status, answer.read(), answer.getheader("Content-Encoding") == "gzip"


def get(conn: http.client.HTTPConnection, path: str, gzip: bool = True,
        language: str = "da") -> tuple[int, bytes]:
    """Status and body (decompressed) of one request."""
    status, body, packed = fetch(conn, path, gzip, language)
    return status, zlib.decompress(body, wbits=31) if packed else body


def wait_until_answering(port: int, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"tryg serve exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            status, _ = get(conn, "/healthz")
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"tryg serve did not answer within {timeout:.0f} s")


def check_healthz(path: str, status: int, body: bytes) -> str | None:
    return None if status == 200 and body == b"ok" else f"{path}: {status} {body[:80]!r}"


def area_check(names: dict[str, str]) -> Callable[[str, int, bytes], str | None]:
    def check(path: str, status: int, body: bytes) -> str | None:
        code = path.rstrip("/").rsplit("/", 1)[-1]
        text = body.decode("utf-8", errors="replace")
        if status != 200 or names[code] not in text or "<svg" not in text:
            return f"{path}: status {status}, name or SVG missing ({len(body)} bytes)"
        return None
    return check


def hammer(port: int, label: str, paths: list[str], clients: int, duration: float,
           warmup: float, check: Callable[[str, int, bytes], str | None],
           gzip: bool = True) -> Load:
    """``clients`` threads ask for ``paths`` in turn for ``warmup + duration`` seconds; only
    the answers that finish inside the measured window count."""
    load = Load(label, target=gzip)
    lock = threading.Lock()
    verified: dict[tuple[str, bool], bytes] = {}
    start = threading.Barrier(clients + 1)
    window: list[float] = []

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        bad: list[str] = []
        i = k
        start.wait()
        t_begin, t_end = window
        try:
            while True:
                t0 = time.perf_counter()
                if t0 >= t_end:
                    break
                path = paths[i % len(paths)]
                i += 1
                try:
                    status, raw, packed = fetch(conn, path, gzip)
                except (OSError, http.client.HTTPException) as exc:
                    bad.append(f"{path}: {exc!r}")
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    continue
                t1 = time.perf_counter()
                # An answer identical to one already checked is right; any other answer is
                # decompressed and checked in full (so the client spends its CPU on asking,
                # not on inflating the same page again: a browser does that on its own CPU).
                problem = None
                if status != 200 or verified.get((path, packed)) != raw:
                    body = zlib.decompress(raw, wbits=31) if packed else raw
                    problem = check(path, status, body)
                    if problem is None:
                        verified[(path, packed)] = raw
                if problem:
                    bad.append(problem)
                elif t0 >= t_begin and t1 <= t_end:
                    mine.append(t1 - t0)
        finally:
            conn.close()
        with lock:
            load.latencies.extend(mine)
            load.errors.extend(bad)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    now = time.perf_counter()
    window.extend([now + warmup, now + warmup + duration])
    start.wait()
    for t in threads:
        t.join()
    load.seconds = duration
    return load


def warm(port: int, paths: list[str], check: Callable[[str, int, bytes], str | None]) -> None:
    """Ask for each path once, one after another (filling the server's page cache)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        for path in paths:
            status, body = get(conn, path)
            problem = check(path, status, body)
            if problem:
                raise SystemExit(f"bad answer while warming up: {problem}")
    finally:
        conn.close()


def build_demo(data_dir: Path) -> float:
    t0 = time.perf_counter()
    done = subprocess.run([str(TRYG), "demo", "--no-serve", "--data-dir", str(data_dir)],
                          env=site_environment(data_dir), capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"tryg demo failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - t0


@dataclass
class Cold:
    """The first visitors' waits: every area page once per language, nothing cached."""

    first: float                      # the very first (reads the publication's table)
    times: dict[str, list[float]]     # language -> seconds per area page (the others)
    load: tuple[float, float, float]  # load average when they were measured
    in_process: dict[str, Any] = field(default_factory=dict)  # bench/cold_render.py

    def all(self) -> list[float]:
        return [t for values in self.times.values() for t in values]


def cold_pages(port: int, names: dict[str, str]) -> Cold:
    """Ask for every area's page once in Danish and once in English, timing each answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    check = area_check(names)
    times: dict[str, list[float]] = {"da": [], "en": []}
    first = -1.0
    try:
        for code in sorted(names):
            for language in times:
                path = f"/areas/{code}/"
                t0 = time.perf_counter()
                status, body = get(conn, path, language=language)
                seconds = time.perf_counter() - t0
                if status == 404:  # an area without published results has no page
                    break
                problem = check(path, status, body)
                if problem:
                    raise SystemExit(f"bad answer of a cold page: {problem}")
                if first < 0:
                    first = seconds
                else:
                    times[language].append(seconds)
    finally:
        conn.close()
    return Cold(first, times, os.getloadavg())


def cold_in_process(data_dir: Path) -> dict[str, Any]:
    """bench/cold_render.py on the demo (the server stopped): its JSON."""
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("cold_render.py")),
                           str(data_dir)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"cold_render.py failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["load1"] = os.getloadavg()[0]
    return result


def areas(port: int, level: str = "") -> dict[str, str]:
    """Code → name of the demo's areas (of ``level``, or all), from the site's public API."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    status, body = get(conn, f"/api/areas?level={level}" if level else "/api/areas")
    conn.close()
    if status != 200:
        raise SystemExit(f"/api/areas answered {status}")
    return {a["code"]: a["name"] for a in json.loads(body)}


def neighbourhoods(port: int) -> dict[str, str]:
    """Code → name of the demo's neighbourhoods."""
    return areas(port, "nabolag")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured, per URL")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured, per URL")
    parser.add_argument("--quick", action="store_true", help="3 s per URL")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "web_load.md")
    args = parser.parse_args()
    duration = 3.0 if args.quick else args.seconds
    with tempfile.TemporaryDirectory(prefix="tryg-bench-web-") as tmp:
        data_dir = Path(tmp) / "demo"
        t_build = build_demo(data_dir)
        print(f"demo built in {t_build:.1f} s", flush=True)
        port = free_port()
        log = Path(tmp) / "serve.log"
        with log.open("wb") as out:
            server = subprocess.Popen([str(TRYG), "serve", "--data-dir", str(data_dir),
                                       "--port", str(port)], env=site_environment(data_dir),
                                      stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_answering(port, server, 60)
            names = neighbourhoods(port)
            if names.get(AREA_CODE) != AREA_NAME:
                raise SystemExit(f"the demo has no neighbourhood {AREA_CODE} {AREA_NAME}")
            area = f"/areas/{AREA_CODE}/"
            every = areas(port)
            cold = cold_pages(port, every)  # first: nothing is cached yet
            print(f"cold area pages ({len(every)} areas × 2 languages): first "
                  f"{cold.first * 1000:.0f} ms, then median "
                  f"{np.median(cold.all()) * 1000:.0f} ms, max {max(cold.all()) * 1000:.0f} "
                  f"ms (load average {cold.load[0]:.1f})", flush=True)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            status, body = get(conn, area)
            conn.close()
            problem = area_check(names)(area, status, body)
            if problem:
                raise SystemExit(f"the area page is not right: {problem}\n"
                                 f"{log.read_text(errors='replace')[-3000:]}")
            runs = [
                ("`/healthz` (trivial view, the floor)", ["/healthz"], check_healthz),
                (f"`{area}` (one neighbourhood)", [area], area_check(names)),
                (f"`/areas/<code>/`, all {len(names)} neighbourhoods in turn",
                 [f"/areas/{c}/" for c in sorted(names)], area_check(names)),
            ]
            plain = (f"`{area}` without gzip (a client that does not accept it; not a target "
                     "row)", [area], area_check(names))
            loads = []
            for label, paths, check in runs:
                warm(port, paths, check)  # each page once: a cache miss is not measured
                load = hammer(port, label, paths, args.clients, duration, args.warmup, check)
                loads.append(load)
                print(f"{label}: {load.throughput:,.0f} req/s, p50 {load.percentile(50):.1f} "
                      f"ms, p95 {load.percentile(95):.1f} ms, {len(load.errors)} errors",
                      flush=True)
            load = hammer(port, plain[0], plain[1], args.clients, duration, args.warmup,
                          plain[2], gzip=False)
            loads.append(load)
        finally:
            server.terminate()
            server.wait(timeout=30)
        cold.in_process = cold_in_process(data_dir)
    report(args, duration, cold, len(body), loads)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def report(args: argparse.Namespace, duration: float, cold: Cold, page_bytes: int,
           loads: list[Load]) -> None:
    floor = loads[0].throughput
    rows = [[load.label, f"{load.throughput:,.0f}", f"{load.percentile(50):.1f}",
             f"{load.percentile(95):.1f}", f"{load.throughput / floor:.2f}×",
             str(len(load.errors))] for load in loads]
    warm_ok = all(not load.errors for load in loads) and all(
        load.throughput >= TARGET * floor for load in loads[1:] if load.target)
    waits = cold.all()
    slow = sum(1 for t in waits if t > COLD_TARGET)
    cold_ok = slow == 0
    cold_rows = [[f"over HTTP (`tryg serve`), {language}", str(len(values)), ms(min(values)),
                  ms(float(np.median(values))), ms(max(values))]
                 for language, values in cold.times.items()]
    inp = cold.in_process
    cold_rows.append(["in-process render (bench/cold_render.py), both languages",
                      str(int(inp["pages"])), ms(inp["min"]), ms(inp["median"]),
                      ms(inp["max"])])
    info = machine(packages=("django", "waitress", "pandas", "vl-convert-python"), with_r=False)
    lines = [
        f"# bench/web_load.py — {time.strftime('%Y-%m-%d')}", "",
        "## Cold area pages (the first visitor after a publication)", "",
        f"Every area's page asked for once per language, one after another, right after the "
        f"server started on the freshly published demo (nothing cached). The very first "
        f"request also read the published run's public table (once per publication and "
        f"process): {ms(cold.first)} ms. In process, reading that table took "
        f"{ms(inp['read_publication'])} ms and the first page after it (which indexes it) "
        f"{ms(inp['first_page'])} ms. Load average while measuring: "
        f"{cold.load[0]:.1f} / {cold.load[1]:.1f} / {cold.load[2]:.1f} over HTTP, "
        f"{inp['load1']:.1f} (1 min) after the in-process run (its slowest page: "
        f"{inp['slowest']}).", "",
        markdown_table(["measured", "pages", "min ms", "median ms", "max ms"], cold_rows), "",
        f"Target: every cold area page over HTTP within {COLD_TARGET:.1f} s: "
        f"{'met' if cold_ok else f'NOT met ({slow} of {len(waits)} slower)'}.", "",
        "## Warm throughput", "",
        f"The demo site served by `tryg serve` (waitress, 8 threads, one process) on the "
        f"loopback; {args.clients} concurrent keep-alive clients (a threading client on "
        f"`http.client`, in another process), {duration:.0f} s measured per URL after "
        f"{args.warmup:.0f} s of warm-up (each URL asked for once before that); the page is "
        f"{page_bytes / 1024:,.0f} KiB.", "",
        markdown_table(["URL", "requests/s", "p50 ms", "p95 ms", "vs trivial view",
                        "bad answers"], rows), "",
        f"Target: each area page row at least {TARGET:.0%} of the trivial view's throughput: "
        f"{'met' if warm_ok else 'NOT met'}. Every answer was checked (status 200; the area's "
        "name and an SVG chart in the page).", "",
        *(f"- first bad answer of {load.label}: {load.errors[0]}" for load in loads
          if load.errors),
        f"- load average at the end: {' / '.join(f'{v:.1f}' for v in os.getloadavg())}",
        *(f"- {k}: {v}" for k, v in info.items()),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    if not (warm_ok and cold_ok):
        raise SystemExit("target not met (or bad answers)")


if __name__ == "__main__":
    main()
