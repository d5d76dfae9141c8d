from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0001_imports_jobs"),
    ]

    operations = [
        migrations.RenameField(model_name="importjob", old_name="kind", new_name="record_type"),
        migrations.RenameField(model_name="hygieneaction", old_name="kind", new_name="record_type"),
    ]
