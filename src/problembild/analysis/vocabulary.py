"""Shared vocabulary of the analytics: indicator groups, local time zone, change marks.

The indicator groups are those of the police's national situation reports
(lägesbild). Codes are stable identifiers used in the database, the taxonomy file, the
API and the analytics; labels are Swedish first, English second.

This module imports nothing heavy, so settings and other light modules may use it.
"""

from __future__ import annotations

from typing import Final

#: Indicator group code -> (Swedish label, English label).
INDICATORS: Final[dict[str, tuple[str, str]]] = {
    "shootings": ("Skjutningar", "Shootings"),
    "explosions": ("Explosioner och detonationer", "Explosions and detonations"),
    "violence_public": ("Våld i offentlig miljö", "Violence in public places"),
    "drugs": ("Narkotikabrott", "Drug offences"),
    "weapons": ("Vapenbrott", "Weapon offences"),
    "vehicle_arson_vandalism": ("Fordonsbränder och skadegörelse", "Vehicle arson and vandalism"),
    "threats_intimidation": ("Hot och övergrepp i rättssak", "Threats and witness intimidation"),
    "other": ("Övriga händelser", "Other incident reports"),
}

#: Pseudo-indicator that sums every incident report.
ALL: Final = "all"

INDICATOR_CODES: Final[tuple[str, ...]] = tuple(INDICATORS)

#: The police's wall-clock time zone (IANA name). Calendar periods (days, ISO weeks,
#: months, quarters, years) and hours of the week are counted in it, and times given
#: without a UTC offset are read as local times in it (winter and summer time).
LOCAL_TIMEZONE: Final = "Europe/Stockholm"

#: Mark of a significant rise (a change table's or a trend's rate ratio above 1).
UP: Final = "↑"
#: Mark of a significant fall (rate ratio below 1).
DOWN: Final = "↓"
