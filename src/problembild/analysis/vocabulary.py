"""The indicator groups of the police's national situation reports (lägesbild).

Codes are stable identifiers used in the database, the taxonomy file, the API and
the analytics; labels are Swedish first, English second.
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
