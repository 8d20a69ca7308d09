"""Who may read and change competence records.

* People's records (levels, gaps, certificates): HR and the managers of the unit, within
  their org unit (HR placed at the nation sees everyone); and each member of staff their
  own record (the record whose ``login`` is their user name).
* Aggregated reports (counts per competence, unit and area; no ids): those roles and the
  national analysts (Noa), who write the role profiles and review the national training.
* Role profiles: decided by Noa (national analysts) and administrators.
* Training plans: HR, managers and Noa; the list of who takes which course is for the
  roles that read people's records.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from problembild.core.roles import ADMINISTRATOR, HR, MANAGER_ROLES, NATIONAL_ANALYST, has_role
from problembild.core.scoping import in_scope, require_unit_visible

from .models import Staff

PEOPLE_ROLES = MANAGER_ROLES | {HR}
REPORT_ROLES = PEOPLE_ROLES | {NATIONAL_ANALYST}
PROFILE_ROLES = frozenset({NATIONAL_ANALYST, ADMINISTRATOR})
PLAN_ROLES = REPORT_ROLES


def own_record(user) -> Staff | None:
    """The staff record linked to ``user``'s login, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Staff.objects.select_related("org_unit", "area").filter(login=user.get_username()).first()


def may_read_person(user, person: Staff) -> bool:
    return (person.login and person.login == user.get_username()) or in_scope(
        user, PEOPLE_ROLES, person.org_unit
    )


def require_reports(user, unit) -> None:
    """403 unless ``user`` may read the aggregated reports of ``unit``."""
    require_unit_visible(user, unit)
    if not has_role(user, REPORT_ROLES):
        raise PermissionDenied("Your role does not read competence reports.")


def sees_menu(user) -> bool:
    """The menu shows "Kompetens" to the report roles and to staff with a linked record."""
    return has_role(user, REPORT_ROLES) or Staff.objects.filter(login=user.get_username()).exists()
