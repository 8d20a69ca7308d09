"""The problem picture's pages: the overview, an area's picture, a unit's picture."""

from .area import area_detail, area_export, area_print
from .overview import overview, overview_export
from .unit import unit_detail

__all__ = ["area_detail", "area_export", "area_print", "overview", "overview_export", "unit_detail"]
