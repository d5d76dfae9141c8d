"""Give the report's model permissions to the groups (the groups exist since bounces 0002)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SALES_STAFF = "Sales staff"
ADMINS = "Admins"


def fill_report_permissions(apps, schema_editor):
    # Permissions are normally created after migrate; this migration needs them now.
    app_config = apps.get_app_config("reports")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    reports = Permission.objects.filter(content_type__app_label="reports")
    for group in Group.objects.filter(name=ADMINS):
        group.permissions.add(*reports)
    for group in Group.objects.filter(name=SALES_STAFF):
        group.permissions.add(*reports.filter(codename="view_ratealert"))


def remove_report_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    reports = Permission.objects.filter(content_type__app_label="reports")
    for group in Group.objects.filter(name__in=[ADMINS, SALES_STAFF]):
        group.permissions.remove(*reports)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("bounces", "0002_fill_groups"),
    ]

    operations = [migrations.RunPython(fill_report_permissions, remove_report_permissions)]
