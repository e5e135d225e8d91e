"""Reading a report PDF from outside: poppler's pdftoppm/pdftotext and pikepdf."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.fail(f"{tool} (poppler-utils) is not installed; .ci/run installs it")
    return found


def pdf_text(path: Path) -> str:
    """The PDF's text as pdftotext reads it (layout order, UTF-8)."""
    done = subprocess.run([poppler("pdftotext"), "-enc", "UTF-8", str(path), "-"],
                          capture_output=True, text=True, check=True, timeout=120)
    return done.stdout


def page_count(path: Path) -> int:
    import pikepdf

    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def rendered_pages(path: Path, folder: Path) -> list[Path]:
    """Every page drawn to a PNG by pdftoppm (it fails on a page it cannot draw)."""
    subprocess.run([poppler("pdftoppm"), "-r", "30", "-png", str(path), str(folder / "page")],
                   capture_output=True, check=True, timeout=300)
    return sorted(p for p in folder.glob("page*.png") if p.stat().st_size > 0)
