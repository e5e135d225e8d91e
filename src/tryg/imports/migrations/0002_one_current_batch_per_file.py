"""One current import per kind and checksum (the claim on a file), and each import's number
of register records stored on its row.

Before the constraint is added, a file that two racing imports stored twice (possible on
PostgreSQL before this migration) is stored once again: of the current imports of one kind
and checksum the first is kept, the later ones are marked replaced, and a later register
import's rows (the same file's counts and records, a second time) are deleted.
"""

from typing import Any

from django.db import migrations, models
from django.db.models import Count, Min
from django.utils import timezone


def keep_one_per_file(apps: Any, schema_editor: Any) -> None:
    batch = apps.get_model("imports", "ImportBatch")
    count = apps.get_model("crime", "RegisterCount")
    record = apps.get_model("crime", "RegisterRecord")
    twice = (batch.objects.filter(replaced_at__isnull=True).values("kind", "sha256")
             .annotate(n=Count("id"), first=Min("id")).filter(n__gt=1))
    for group in twice:
        later = list(batch.objects.filter(kind=group["kind"], sha256=group["sha256"],
                                          replaced_at__isnull=True)
                     .exclude(pk=group["first"]).values_list("pk", flat=True))
        if group["kind"] == "register":
            count.objects.filter(import_batch_id__in=later).delete()
            record.objects.filter(import_batch_id__in=later).delete()
        batch.objects.filter(pk__in=later).update(replaced_at=timezone.now(), record_count=0)


def count_records(apps: Any, schema_editor: Any) -> None:
    batch = apps.get_model("imports", "ImportBatch")
    record = apps.get_model("crime", "RegisterRecord")
    for row in record.objects.values("import_batch_id").annotate(n=Count("id")):
        batch.objects.filter(pk=row["import_batch_id"]).update(record_count=row["n"])


class Migration(migrations.Migration):

    dependencies = [
        ("imports", "0001_initial"),
        ("crime", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="importbatch",
            name="record_count",
            field=models.BigIntegerField(default=0, verbose_name="register records"),
        ),
        migrations.RunPython(count_records, migrations.RunPython.noop),
        migrations.RunPython(keep_one_per_file, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="importbatch",
            constraint=models.UniqueConstraint(
                condition=models.Q(replaced_at__isnull=True), fields=("kind", "sha256"),
                name="imports_one_current_batch_per_file"),
        ),
    ]
