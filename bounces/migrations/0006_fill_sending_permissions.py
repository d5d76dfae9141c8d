"""Give the groups the sending permissions: one-to-one email to sales staff and admins; mass
email, senders and opt-outs to admins only."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SALES = [("bounces", "send_email"), ("bounces", "view_optout")]
ADMINS = [
    ("bounces", "send_email"),
    ("bounces", "send_mass_email"),
    *[
        ("bounces", f"{action}_{model}")
        for model in ("sender", "optout")
        for action in ("view", "add", "change", "delete")
    ],
]


def fill_sending_permissions(apps, schema_editor):
    # Restore models_module afterwards, as 0002 does: the test suite calls this with the real
    # app registry, where leaving it None stops post_migrate from re-creating permissions.
    for app_config in apps.get_app_configs():
        original = getattr(app_config, "models_module", None)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in (("Sales staff", SALES), ("Admins", ADMINS)):
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        for app_label, codename in wanted:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_sending_permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="bounces", codename__in=["send_email", "send_mass_email"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("bounces", "0005_sending_senders_optouts")]

    operations = [migrations.RunPython(fill_sending_permissions, remove_sending_permissions)]
