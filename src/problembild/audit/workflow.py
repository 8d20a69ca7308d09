"""The measures' state machine: which action moves a measure where, and who may take it.

=============  ==============================  =============  ========  ==========================
action         from                            to             who       needs
=============  ==============================  =============  ========  ==========================
start          planned                         ongoing        owner
complete       planned, ongoing                done           owner     at least one evidence item
withdraw       done                            ongoing        owner
verify         done                            verified       auditor
reopen         done, verified                  ongoing        auditor   a reason
decline        planned, ongoing, done          not_pursued    owner     a justification
accept         not_pursued (not yet accepted)  not_pursued    auditor
reject         not_pursued                     ongoing        auditor   a reason
=============  ==============================  =============  ========  ==========================

*Owners* are the users whose org unit contains the measure's owner unit and who hold its
responsible role or a manager role; *auditors* hold the auditor role. Administrators are
neither: who verifies is kept apart from who does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from problembild.core.locking import save_if_current
from problembild.core.roles import ADMINISTRATOR, AUDITOR, MANAGER_ROLES, has_role
from problembild.core.scoping import in_scope

from .models import Measure

S = Measure.Status
OWNER, AUDITOR_SIDE = "owner", "auditor"


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    sources: tuple[str, ...]
    target: str
    who: str
    needs: str = ""  # "evidence", "reason" or "justification"


ACTIONS: dict[str, Action] = {
    a.code: a
    for a in (
        Action("start", _("Påbörja"), (S.PLANNED,), S.ONGOING, OWNER),
        Action("complete", _("Markera som genomförd"), (S.PLANNED, S.ONGOING), S.DONE, OWNER, "evidence"),
        Action("withdraw", _("Ta tillbaka till pågående"), (S.DONE,), S.ONGOING, OWNER),
        Action("verify", _("Verifiera"), (S.DONE,), S.VERIFIED, AUDITOR_SIDE),
        Action("reopen", _("Öppna igen"), (S.DONE, S.VERIFIED), S.ONGOING, AUDITOR_SIDE, "reason"),
        Action(
            "decline",
            _("Genomförs inte"),
            (S.PLANNED, S.ONGOING, S.DONE),
            S.NOT_PURSUED,
            OWNER,
            "justification",
        ),
        Action("accept", _("Godta att den inte genomförs"), (S.NOT_PURSUED,), S.NOT_PURSUED, AUDITOR_SIDE),
        Action(
            "reject", _("Avslå: åtgärden ska genomföras"), (S.NOT_PURSUED,), S.ONGOING, AUDITOR_SIDE, "reason"
        ),
    )
}


class TransitionRefused(ValueError):
    """The action is not allowed from the measure's status, or something it needs is missing."""


def is_owner(user, measure: Measure) -> bool:
    """``user`` works in the measure's owner unit (or above it) in its responsible role or as a manager."""
    roles = (set(MANAGER_ROLES) - {ADMINISTRATOR}) | {measure.responsible_role}
    return in_scope(user, roles, measure.owner)


def is_auditor(user) -> bool:
    return has_role(user, {AUDITOR})


def allowed(user, measure: Measure) -> list[Action]:
    """The actions ``user`` may take on ``measure`` now."""
    out = []
    for action in ACTIONS.values():
        if measure.status not in action.sources:
            continue
        if action.code == "accept" and measure.accepted:
            continue
        if (action.who == OWNER and is_owner(user, measure)) or (
            action.who == AUDITOR_SIDE and is_auditor(user)
        ):
            out.append(action)
    return out


def apply(
    measure: Measure, code: str, user, *, version: int, text: str = "", today: date | None = None
) -> Measure:
    """Take action ``code`` on ``measure`` as ``user`` (PermissionDenied, TransitionRefused, EditConflict)."""
    action = ACTIONS.get(code)
    if action is None:
        raise TransitionRefused(f"unknown action {code!r}")
    if measure.status not in action.sources or (code == "accept" and measure.accepted):
        raise TransitionRefused(
            f"'{action.label}' is not possible from the status '{measure.get_status_display()}'"
        )
    if not (
        (action.who == OWNER and is_owner(user, measure)) or (action.who == AUDITOR_SIDE and is_auditor(user))
    ):
        raise PermissionDenied(
            "Only the measure's owners may do this." if action.who == OWNER else "Only auditors may do this."
        )
    text = text.strip()
    if action.needs == "evidence" and not measure.evidence.exists():
        raise TransitionRefused("attach evidence before marking the measure as done")
    if action.needs in ("reason", "justification") and not text:
        raise TransitionRefused(f"a {action.needs} is required")
    measure.status = action.target
    if code == "decline":
        measure.justification, measure.accepted = text, False
    elif code == "accept":
        measure.accepted = True
    elif code in ("reopen", "reject"):
        measure.reason, measure.accepted = text, False
    elif code == "verify":
        measure.reason = text
    if code == "start" and measure.started is None:
        measure.started = today or timezone.localdate()
    measure.changed = timezone.now()
    measure._change_reason = (f"{code}: {text}" if text else code)[:100]
    save_if_current(measure, version)
    return measure
