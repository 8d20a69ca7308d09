"""``problembild refresh``: compute every area's and unit's problem picture into the cache.

The analytics live in :mod:`problembild.analysis`; this package feeds them from the store
and writes their results where pages and the API read them, in named stages:

* :mod:`.load` — the incident store as arrays, the population, the end of the data;
* :mod:`.counts` — incidents per area and municipality, indicator and period;
* :mod:`.tables` — the :class:`~problembild.picture.models.IndicatorValue` table and the
  twelve-month comparisons (need, ranks, category means);
* :mod:`.space` — hot spots and forecasts, in worker processes (Django-free);
* :mod:`.documents` — each area's :class:`~problembild.picture.document.AreaDocument`;
* :mod:`.units` — every org unit's :class:`~problembild.picture.document.UnitDocument`;

:mod:`.run` runs them in order (``from problembild.picture.refresh.run import refresh``),
:mod:`.fingerprints` decides which areas keep their expensive parts.

This package's ``__init__`` imports nothing: the worker processes of :mod:`.space` import
the package without Django set up.
"""
