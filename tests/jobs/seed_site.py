"""Fill a tryg installation (``DATABASE_URL``, ``TRYG_DATA_DIR`` from the environment) with
the fictional demo data and a published run, and an analyst ``analyst`` whose password is the
first argument. Run as a script by the tests that start servers (tests/jobs, tests/backup)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def main(password: str) -> None:
    from tryg.cli.site import setup_site

    setup_site()
    from tryg.accounts.models import Role, User
    from tryg.cli.demo import _build_fictional, _Steps, run_and_publish

    User.objects.create_user("analyst", password=password, role=Role.ANALYST)
    steps = _Steps()
    with tempfile.TemporaryDirectory() as files:
        _build_fictional(Path(files), 1, steps)
    run_and_publish(steps)
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.save("exports/seeded.txt", ContentFile(b"a stored file\n"))


if __name__ == "__main__":
    main(sys.argv[1])
