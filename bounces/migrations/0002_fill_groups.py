"""Create the "Sales staff" and "Admins" groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SALES_STAFF = "Sales staff"
ADMINS = "Admins"

SALES_PERMISSIONS = [
    ("records", "view_contact"),
    ("records", "add_contact"),
    ("records", "change_contact"),
    ("records", "view_lead"),
    ("records", "add_lead"),
    ("records", "change_lead"),
    ("bounces", "view_block"),
    ("bounces", "view_bounce"),
    ("bounces", "view_sentemail"),
    ("bounces", "view_mailing"),
    ("bounces", "view_unblock"),
    ("bounces", "unblock_temporary"),
]


def fill_groups(apps, schema_editor):
    # Permissions are normally created after migrate; this migration needs them now.
    # (Restore models_module afterwards: the test suite calls this with the real app registry,
    # where leaving it None stops post_migrate from ever re-creating permissions.)
    for app_config in apps.get_app_configs():
        original = getattr(app_config, "models_module", None)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    sales, _ = Group.objects.get_or_create(name=SALES_STAFF)
    for app_label, codename in SALES_PERMISSIONS:
        sales.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )

    admins, _ = Group.objects.get_or_create(name=ADMINS)
    admins.permissions.set(
        Permission.objects.filter(content_type__app_label__in=["records", "bounces", "reports"])
    )
    admins.permissions.add(
        *Permission.objects.filter(content_type__app_label="auth"),
    )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[SALES_STAFF, ADMINS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("bounces", "0001_initial"),
        ("records", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(fill_groups, remove_groups)]
