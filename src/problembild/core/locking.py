"""Optimistic locking: an edit saves only if nobody saved the same record since it was opened.

A record that several people edit carries a ``version`` (a positive integer). The form sends
the version it was opened at; :func:`save_if_current` saves only when the stored version is
still that one, and bumps it. Otherwise it raises :class:`EditConflict` carrying the stored
record, so the page can say who saved what meanwhile instead of silently overwriting it.

The check and the save run in one transaction with the row locked (``select_for_update``
on PostgreSQL; SQLite takes its write lock when the transaction begins, see
``transaction_mode`` in the settings), so two saves racing for the same version cannot both
succeed.
"""

from __future__ import annotations

from django.db import models, transaction


class EditConflict(Exception):
    """Someone saved the record after this edit was opened; ``current`` is the stored record."""

    def __init__(self, current: models.Model, expected: int):
        self.current = current
        self.expected = expected
        super().__init__(
            f"{current._meta.verbose_name} was changed by someone else (version {expected} opened, "
            f"version {current.version} stored)"
        )


def save_if_current(obj: models.Model, expected_version: int, *, save=None) -> None:
    """Save ``obj`` (bumping ``version``) if the stored version is ``expected_version``.

    ``save`` (default ``obj.save``) is called inside the transaction after the check, so
    related rows (a formset) can be saved under the same lock. A new object (no pk) is
    saved with version 1.
    """
    save = save or obj.save
    with transaction.atomic():
        if obj.pk is None:
            obj.version = 1
            save()
            return
        stored = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        if stored.version != expected_version:
            raise EditConflict(stored, expected_version)
        obj.version = expected_version + 1
        save()
