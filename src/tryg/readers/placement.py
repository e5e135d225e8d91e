"""Placing millions of points in areas in a child process, while the caller does other work.

shapely's STRtree query holds the GIL for its whole call, so a thread placing points stops
every other Python thread (a database write between two statements, for one). A child
Python process (``python -m tryg.readers.placement``) runs :func:`tryg.geo.area_index` on its
own core instead; the layer is sent once as WKB, then chunks of coordinates go in and area
positions come back, in order, over the child's stdin/stdout (pickle, between this process
and a child it started itself). A plain subprocess rather than :mod:`multiprocessing`: its
"spawn" start re-imports the caller's main module, which is not ours to run.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import IO, Any

import numpy as np
import shapely
from numpy.typing import NDArray

from tryg import geo

Chunk = tuple[NDArray[np.float64], NDArray[np.float64]]


def place_in_process(layer: geo.AreaGeometry, chunks: Sequence[Chunk]) -> Iterator[
        NDArray[np.intp]]:
    """The area positions (see :func:`tryg.geo.area_index`) of each chunk of (lon, lat), in
    order, computed in a child process as fast as it can go ahead of the consumer."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    child = subprocess.Popen([sys.executable, "-m", "tryg.readers.placement"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert child.stdin is not None and child.stdout is not None
    wkb = [bytes(g) for g in shapely.to_wkb(layer.geometries)]
    failure: list[BaseException] = []

    def feed(stream: IO[bytes]) -> None:
        try:
            pickle.dump((layer.codes, wkb), stream, protocol=pickle.HIGHEST_PROTOCOL)
            for chunk in chunks:
                pickle.dump(chunk, stream, protocol=pickle.HIGHEST_PROTOCOL)
            stream.close()
        except (BrokenPipeError, OSError) as exc:  # the child died; the reader reports it
            failure.append(exc)

    feeder = threading.Thread(target=feed, args=(child.stdin,), daemon=True)
    feeder.start()
    try:
        for _ in chunks:
            try:
                result: NDArray[np.intp] = pickle.load(child.stdout)
            except EOFError:
                raise RuntimeError(f"the placement process stopped (exit code "
                                   f"{child.wait()}); {failure}") from None
            yield result
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        feeder.join(timeout=5)
        child.stdout.close()


def _serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    codes, wkb = pickle.load(stdin)
    layer = geo.AreaGeometry(tuple(codes), np.asarray(shapely.from_wkb(wkb), dtype=object))
    while True:
        try:
            lon, lat = pickle.load(stdin)
        except EOFError:
            return
        pickle.dump(geo.area_index(layer, lon, lat), stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()


def main(argv: Any = None) -> None:
    _serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
