"""The roles of Problembild, kept as Django groups.

A role says what a user may do; the org unit (see ``OrgUnit``) says where. Both are
needed: a local police area chief sees only their own areas.
"""

from __future__ import annotations

from typing import Final

from django.utils.translation import gettext_lazy as _

NATIONAL_ANALYST: Final = "national_analyst"
REGION_MANAGER: Final = "region_manager"
POLICE_AREA_MANAGER: Final = "police_area_manager"
LOCAL_CHIEF: Final = "local_police_area_chief"
INTELLIGENCE_COORDINATOR: Final = "intelligence_coordinator"
AUDITOR: Final = "auditor"
ADMINISTRATOR: Final = "administrator"
READ_ONLY: Final = "read_only"
HR: Final = "hr"

#: Role code -> label. The group's name is the code, so code and database agree.
ROLES: Final = {
    NATIONAL_ANALYST: _("Nationell analytiker (Noa)"),
    REGION_MANAGER: _("Regionledning"),
    POLICE_AREA_MANAGER: _("Polisområdesledning"),
    LOCAL_CHIEF: _("Lokalpolisområdeschef"),
    INTELLIGENCE_COORDINATOR: _("Underrättelsesamordnare"),
    AUDITOR: _("Internrevisor"),
    ADMINISTRATOR: _("Administratör"),
    READ_ONLY: _("Läsbehörighet"),
    HR: _("HR (personal och kompetens)"),
}

#: Roles that may export data (exports are logged with reason and recipient).
EXPORT_ROLES: Final = frozenset(
    {
        NATIONAL_ANALYST,
        REGION_MANAGER,
        POLICE_AREA_MANAGER,
        LOCAL_CHIEF,
        INTELLIGENCE_COORDINATOR,
        ADMINISTRATOR,
        HR,
    }
)
#: Roles that may import data (the import page; Django staff may too). Imports change the
#: data every unit sees, so only administrators do: analysts read, they do not load.
IMPORT_ROLES: Final = frozenset({ADMINISTRATOR})
#: Roles that may read the access log and the access review.
AUDIT_ROLES: Final = frozenset({AUDITOR, ADMINISTRATOR})


def _roles(user) -> frozenset[str]:
    """The user's role codes, read once per user object (with the unit: ``scoping.load_access``)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_problembild_roles", None)
    if cached is None:
        if not hasattr(user, "_problembild_groups"):
            from .scoping import load_access  # the unit comes along in the same query

            load_access(user)
        codes = {name for name in user._problembild_groups if name in ROLES}
        if user.is_superuser:
            codes.add(ADMINISTRATOR)
        cached = user._problembild_roles = frozenset(codes)
    return cached


def role_codes(user) -> set[str]:
    """Return the role codes of ``user`` (superusers count as administrators)."""
    return set(_roles(user))


def has_role(user, roles) -> bool:
    """True when ``user`` holds any of ``roles``."""
    return not _roles(user).isdisjoint(roles)


#: Roles that manage units: they edit their units' staffing and capacity (within their scope).
MANAGER_ROLES: Final = frozenset({REGION_MANAGER, POLICE_AREA_MANAGER, LOCAL_CHIEF, ADMINISTRATOR})
#: Roles that may run and save resource scenarios: managers, and the national analysts who plan.
PLANNING_ROLES: Final = MANAGER_ROLES | {NATIONAL_ANALYST}
