"""The shipped catalogue of methods and the strategy's goals, loaded by ``problembild init``.

``data/methods.toml`` (the method support with EMMIE ratings) and ``data/strategy.toml``
(the 2018 strategy's three directions, sub-goals, indicators and example national targets)
are described in ``data/README.md``. Loading is idempotent: codes are keys, texts are
updated, and a target an agency has edited (no longer marked example) is left alone.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from django.db import transaction

from problembild.core.db import upsert
from problembild.core.models import OrgUnit

from .models import Goal, Method, StrategyIndicator, Target

DATA = Path(__file__).resolve().parent / "data"


def _load(name: str) -> dict:
    with open(DATA / name, "rb") as handle:
        return tomllib.load(handle)


@transaction.atomic
def load_methods() -> int:
    """Create or update every method of ``methods.toml``; return how many changed."""
    changed = 0
    for m in _load("methods.toml")["method"]:
        _, was = upsert(
            Method,
            {"code": m["code"]},
            {
                key: m.get(key, "" if key not in ("problems", "emmie") else ({} if key == "emmie" else []))
                for key in (
                    "name_sv",
                    "name_en",
                    "summary_sv",
                    "summary_en",
                    "mechanism_sv",
                    "mechanism_en",
                    "problems",
                    "emmie",
                    "emmie_note_sv",
                    "emmie_note_en",
                    "measure_sv",
                    "measure_en",
                    "unit",
                )
            },
        )
        changed += was
    return changed


@transaction.atomic
def load_strategy() -> int:
    """Create or update the goals, sub-goals and indicators, and the example national targets."""
    data = _load("strategy.toml")
    example = bool(data.get("example", True))
    nation = OrgUnit.objects.filter(kind=OrgUnit.Kind.NATION).first()
    changed = 0
    for order, g in enumerate(data["goal"]):
        goal, was = upsert(
            Goal,
            {"code": g["code"]},
            {
                "parent": None,
                "title_sv": g["title_sv"],
                "title_en": g.get("title_en", ""),
                "description_sv": g.get("description_sv", "").strip(),
                "description_en": g.get("description_en", "").strip(),
                "order": order,
                "example": example,
            },
        )
        changed += was
        for sub_order, sg in enumerate(g.get("subgoal", [])):
            sub, was = upsert(
                Goal,
                {"code": sg["code"]},
                {
                    "parent": goal,
                    "title_sv": sg["title_sv"],
                    "title_en": sg.get("title_en", ""),
                    "description_sv": sg.get("description_sv", "").strip(),
                    "description_en": sg.get("description_en", "").strip(),
                    "order": sub_order,
                    "example": example,
                },
            )
            changed += was
            for ind in sg.get("indicator", []):
                measure, was = upsert(
                    StrategyIndicator,
                    {"code": ind["code"]},
                    {
                        "goal": sub,
                        "title_sv": ind["title_sv"],
                        "title_en": ind.get("title_en", ""),
                        "kind": ind["kind"],
                        "indicator": ind.get("indicator", ""),
                        "statistic": ind.get("statistic", ""),
                        "measure": ind.get("measure", ""),
                        "direction": ind["direction"],
                        "example": example,
                    },
                )
                changed += was
                if nation is None or "target_year" not in ind:
                    continue
                existing = Target.objects.filter(measure=measure, org_unit=nation).first()
                if existing is not None and not existing.example:
                    continue  # an agency's own target is never overwritten by the seed
                _, was = upsert(
                    Target,
                    {"measure": measure, "org_unit": nation},
                    {
                        "baseline_year": ind["baseline_year"],
                        "target_year": ind["target_year"],
                        "target_value": ind.get("target_value"),
                        "target_change_pct": ind.get("target_change_pct"),
                        "example": True,
                    },
                )
                changed += was
    return changed


def load_seed() -> dict[str, int]:
    return {"methods": load_methods(), "strategy": load_strategy()}
