"""A run's problems and warnings are kept once, as data (``problem_data``): the English text
lists ``problems``/``warnings`` go. A run stored before ``problem_data`` existed has its lines
moved there first, each as a problem with its text as message (what the page showed for it)."""

from typing import Any

from django.db import migrations

KINDS = ("problems", "warnings")


def _record(line: str) -> dict[str, Any]:
    return {"source": "", "row": None, "column": None, "message": str(line), "template": "",
            "params": {}}


def lines_to_data(apps: Any, schema_editor: Any) -> None:
    IndexRun = apps.get_model("runs", "IndexRun")
    changed = []
    for run in IndexRun.objects.only("id", "problem_data", *KINDS).iterator():
        data = dict(run.problem_data or {})
        moved = False
        for kind in KINDS:
            lines = getattr(run, kind) or []
            if lines and not data.get(kind):
                data[kind] = [_record(line) for line in lines]
                moved = True
        if moved:
            run.problem_data = data
            changed.append(run)
    IndexRun.objects.bulk_update(changed, ["problem_data"], batch_size=500)


def data_to_lines(apps: Any, schema_editor: Any) -> None:
    IndexRun = apps.get_model("runs", "IndexRun")
    changed = []
    for run in IndexRun.objects.only("id", "problem_data", *KINDS).iterator():
        data = run.problem_data or {}
        for kind in KINDS:
            setattr(run, kind, [str(d.get("message", "")) if isinstance(d, dict) else str(d)
                                for d in data.get(kind) or []])
        changed.append(run)
    IndexRun.objects.bulk_update(changed, list(KINDS), batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("runs", "0004_run_problem_data"),
    ]

    operations = [
        migrations.RunPython(lines_to_data, data_to_lines),
        migrations.RemoveField(model_name="indexrun", name="problems"),
        migrations.RemoveField(model_name="indexrun", name="warnings"),
    ]
