"""The cold area page in process: every area page rendered once per language, the cache
cleared before each, timed (min/median/max). Reported apart: reading the published run's
public table (once per publication and process) and the first page after it (which indexes
that table by area and measure, also once per publication). Less sensitive to a loaded
machine than the HTTP round trip of bench/web_load.py, which runs this script on its demo.

Usage: ``.venv/bin/python bench/cold_render.py DATA_DIR [--profile CODE]`` (prints JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--profile", default="", help="profile this area's page instead")
    args = parser.parse_args()
    for key in [k for k in os.environ if k.startswith(("TRYG_", "DJANGO_", "DATABASE_URL"))]:
        del os.environ[key]
    os.environ["TRYG_DATA_DIR"] = str(args.data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tryg.site.settings"
    from django.core.cache import cache
    from django.test import Client

    import tryg.site.wsgi  # noqa: F401  (set up as a server is: views imported, gc frozen)
    from tryg.public.data import latest_publication, published

    publication = latest_publication()
    if publication is None:
        raise SystemExit("nothing is published in this data folder")
    t0 = time.perf_counter()
    data = published(publication.run())  # the public table, read once per publication
    t_published = time.perf_counter() - t0
    codes = list(dict.fromkeys(data.table["area_code"]))
    client = Client(HTTP_HOST="127.0.0.1")
    if args.profile:
        import cProfile
        import pstats

        cache.clear()
        client.get(f"/areas/{args.profile}/", HTTP_ACCEPT_LANGUAGE="da")  # imports, first use
        cache.clear()
        profiler = cProfile.Profile()
        profiler.enable()
        client.get(f"/areas/{args.profile}/", HTTP_ACCEPT_LANGUAGE="en")
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
        return
    client.get("/healthz")  # the URLconf and middleware imported, as in a running server
    cache.clear()
    t0 = time.perf_counter()
    first = client.get("/", HTTP_ACCEPT_LANGUAGE="da")  # the publication's table indexed
    t_first = time.perf_counter() - t0
    if first.status_code != 200:
        raise SystemExit(f"/: {first.status_code}")
    times: dict[str, list[float]] = {"da": [], "en": []}
    order: list[str] = []
    for code in codes:
        for language in times:
            cache.clear()
            t0 = time.perf_counter()
            answer = client.get(f"/areas/{code}/", HTTP_ACCEPT_LANGUAGE=language)
            times[language].append(time.perf_counter() - t0)
            order.append(f"{language}:{code}")
            if answer.status_code != 200 or b"<svg" not in answer.content:
                raise SystemExit(f"/areas/{code}/ ({language}): {answer.status_code}")
    every = [t for pair in zip(times["da"], times["en"], strict=True) for t in pair]
    print(json.dumps({"pages": len(every), "areas": len(codes), "read_publication": t_published,
                      "first_page": t_first,
                      "min": min(every), "median": statistics.median(every),
                      "max": max(every), "slowest": order[every.index(max(every))],
                      "slowest_rank": every.index(max(every)),
                      **{f"median_{k}": statistics.median(v) for k, v in times.items()}}))


if __name__ == "__main__":
    main()
