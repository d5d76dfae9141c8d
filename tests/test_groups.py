"""The two groups the data migration creates, and what each may do."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db


def perms(group: str) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=group).permissions.select_related("content_type")
    }


def test_sales_staff_may_lift_temporary_blocks_but_not_permanent_ones():
    sales = perms("Sales staff")
    assert "bounces.unblock_temporary" in sales
    assert "bounces.unblock_permanent" not in sales


def test_sales_staff_work_with_records_but_cannot_delete_them_or_history():
    sales = perms("Sales staff")
    assert {"records.view_contact", "records.change_contact", "records.view_lead"} <= sales
    assert not {p for p in sales if p.split(".")[1].startswith("delete_")}
    assert not {"bounces.change_block", "bounces.change_unblock"} & sales


def test_admins_may_lift_every_block_and_manage_users():
    admins = perms("Admins")
    assert {"bounces.unblock_temporary", "bounces.unblock_permanent"} <= admins
    assert {"auth.add_user", "auth.change_user"} <= admins


def test_personas_have_their_groups_permissions(sales_user, admin_user):
    assert sales_user.has_perm("bounces.unblock_temporary")
    assert not sales_user.has_perm("bounces.unblock_permanent")
    assert not sales_user.is_staff
    assert admin_user.has_perm("bounces.unblock_permanent")
