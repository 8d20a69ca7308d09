"""Roles as groups, and the pseudonymous demo users."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from . import roles
from .models import OrgUnit, Profile

#: Apps whose data administrators maintain in the Django admin.
ADMIN_APPS = ("areas", "incidents", "core", "picture", "competence", "audit", "assessment", "auth")


@transaction.atomic
def ensure_roles() -> None:
    """Create one group per role; administrators get the maintenance permissions."""
    for code in roles.ROLES:
        group, _ = Group.objects.get_or_create(name=code)
        if code == roles.ADMINISTRATOR:
            perms = Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
            group.permissions.set(
                perms.exclude(codename__in=["change_accesslogentry", "delete_accesslogentry"])
            )
        elif code == roles.AUDITOR:
            group.permissions.set(
                Permission.objects.filter(codename__in=["view_accesslogentry", "view_importrecord"])
            )


#: (username, role, org unit code) — pseudonyms, never real staff.
DEMO_USERS = [
    ("noa.analytiker", roles.NATIONAL_ANALYST, "SE"),
    ("region.stockholm", roles.REGION_MANAGER, "5300"),
    ("po.stockholm.syd", roles.POLICE_AREA_MANAGER, "5312"),
    ("lpo.botkyrka", roles.LOCAL_CHIEF, "5312-botkyrka"),
    ("us.botkyrka", roles.INTELLIGENCE_COORDINATOR, "5312-botkyrka"),
    ("region.vast", roles.REGION_MANAGER, "5500"),
    ("revisor", roles.AUDITOR, "SE"),
    ("hr.nationell", roles.HR, "SE"),
    ("lasare", roles.READ_ONLY, "SE"),
]


@transaction.atomic
def create_demo_users(*, admin_password: str, reset: bool = False) -> list[str]:
    """Create ``admin`` and the demo users with ``admin_password``; return the names created.

    Returns an empty list when they exist already and ``reset`` is False (the password
    is shown once, when it is set).
    """
    ensure_roles()
    user_model = get_user_model()
    exists = user_model.objects.filter(username="admin").exists()
    if exists and not reset:
        return []
    nation = OrgUnit.objects.get(code="SE")
    admin, _ = user_model.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True}
    )
    admin.is_staff = admin.is_superuser = True
    admin.set_password(admin_password)
    admin.save()
    Profile.objects.update_or_create(user=admin, defaults={"org_unit": nation})
    admin.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    created = ["admin"]
    for username, role, unit_code in DEMO_USERS:
        unit = OrgUnit.objects.filter(code=unit_code).first()
        if unit is None:
            continue
        user, _ = user_model.objects.get_or_create(username=username)
        user.set_password(admin_password)
        user.save()
        Profile.objects.update_or_create(user=user, defaults={"org_unit": unit})
        user.groups.set([Group.objects.get(name=role)])
        created.append(username)
    return created
