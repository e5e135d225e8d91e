from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0003_drivers'),
    ]

    operations = [
        migrations.AddField(
            model_name='indexrun',
            name='problem_data',
            field=models.JSONField(blank=True, default=dict, verbose_name='problems as data'),
        ),
    ]
