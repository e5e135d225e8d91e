"""An installed wheel, not the source tree: the site speaks Danish from any install.

The wheel is built from the checkout (``pip wheel --no-deps``; the build backend,
setuptools ≥ 68, comes from pip's cache or index as for any build) and installed with ``--no-deps``
into a new virtual environment. That environment reaches the dependencies through a ``.pth``
file naming the test environment's site-packages: no download and no second copy of numpy,
Django & co. (fast and offline in CI), while tryg itself can only come from the wheel — the
test environment's editable install is a ``.pth``/finder of its own, and ``.pth`` files of a
directory added by a ``.pth`` line are not read. The test checks that, then migrates a new
data folder and serves it with the wheel's ``tryg serve``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import pytest

from support.commands import free_port, start_serving, stop

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "TRYG_", "PYTHON")) and k != "DATABASE_URL"}


def _run(*args: str | Path, cwd: Path) -> str:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                            timeout=600, check=False, env=_env(), cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.slow
def test_the_wheel_ships_the_danish_catalogue_and_serves_danish(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", wheels, ROOT, cwd=tmp_path)
    (wheel,) = wheels.glob("tryg-*.whl")
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("tryg/locale/da/LC_MESSAGES/django.mo", "tryg/py.typed",
                    "tryg/index/specs/dk-tryghedsindeks.toml",
                    "tryg/public/templates/public/home.html", "tryg/web/templates/404.html",
                    "tryg/web/templates/tryg/base.html", "tryg/public/static/public/public.css",
                    "tryg/web/static/tryg/site.css",
                    "tryg/imports/templates/tryg/imports/upload.html",
                    "tryg/site/deploy/nginx.conf"):
        assert shipped in names, shipped

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site_packages = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                            "['purelib'])", cwd=tmp_path).strip())
    (site_packages / "shared-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
         "--no-index", wheel, cwd=tmp_path)
    where = _run(python, "-c", "import tryg; print(tryg.__file__)", cwd=tmp_path).strip()
    assert Path(where).is_relative_to(venv), where  # the wheel, not the checkout

    port = free_port()
    server = start_serving([venv / "bin" / "tryg", "serve", "--data-dir", tmp_path / "site",
                            "--port", str(port)], env=_env(), cwd=tmp_path)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as answer:
            body = answer.read().decode("utf-8")
    finally:
        stop(server)
    assert '<html lang="da"' in body
    for danish in ("Forside", "Kort", "Metode", "ikke offentliggjort nogen resultater"):
        assert danish in body, danish
