"""Organisation units, user profiles, the append-only access log and import records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OrgUnit(models.Model):
    """A unit of the police organisation: nation → region → polisområde → lokalpolisområde.

    ``path`` is a materialised path of codes (``SE/5300/5312/5312-botkyrka``) so that
    "everything below this unit" is a single indexed prefix query.
    """

    class Kind(models.TextChoices):
        NATION = "nation", _("Nation")
        REGION = "region", _("Polisregion")
        POLICE_AREA = "police_area", _("Polisområde")
        LOCAL_POLICE_AREA = "local_police_area", _("Lokalpolisområde")

    kind = models.CharField(_("nivå"), max_length=20, choices=Kind.choices)
    code = models.CharField(_("kod"), max_length=64, unique=True)
    name = models.CharField(_("namn"), max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=400, unique=True, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name = _("organisationsenhet")
        verbose_name_plural = _("organisationsenheter")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def save(self, *args, **kwargs):
        self.path = f"{self.parent.path}/{self.code}" if self.parent_id else self.code
        super().save(*args, **kwargs)

    def descendants(self, include_self: bool = True):
        """Units at or below this one."""
        qs = OrgUnit.objects.filter(path__startswith=self.path + "/")
        if include_self:
            qs = qs | OrgUnit.objects.filter(pk=self.pk)
        return qs

    def ancestors(self) -> list[OrgUnit]:
        """Units above this one, nation first."""
        codes = self.path.split("/")[:-1]
        by_code = {u.code: u for u in OrgUnit.objects.filter(code__in=codes)}
        return [by_code[c] for c in codes if c in by_code]

    def contains(self, other: OrgUnit) -> bool:
        return other.path == self.path or other.path.startswith(self.path + "/")


class Profile(models.Model):
    """The org unit a user belongs to. Staff identities in demo data are pseudonymous."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="members")

    class Meta:
        verbose_name = _("användarprofil")
        verbose_name_plural = _("användarprofiler")

    def __str__(self) -> str:
        return f"{self.user} – {self.org_unit}"


class AppendOnlyQuerySet(models.QuerySet):
    """A queryset that refuses bulk updates and deletes."""

    def update(self, **kwargs):
        raise PermissionError("The access log is append-only: entries cannot be changed.")

    def delete(self):
        raise PermissionError("The access log is append-only: entries cannot be deleted.")


class AccessLogEntry(models.Model):
    """One logged consultation, change, export or import (brottsdatalagen 2018:1177).

    Append-only: the model refuses updates and deletes, and database triggers (see the
    migration) refuse them too, so neither the app nor the admin can alter the log.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("Visning")
        CHANGE = "change", _("Ändring")
        EXPORT = "export", _("Export")
        IMPORT = "import", _("Import")
        LOGIN = "login", _("Inloggning")
        DENIED = "denied", _("Nekad åtkomst")
        REVIEW = "review", _("Behörighetsgranskning")

    time = models.DateTimeField(_("tid"), default=timezone.now, db_index=True)
    # No database constraint and no cascade: the log keeps its rows (with the copied
    # username) even if a user is removed, and the triggers forbid any UPDATE.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField(_("användare"), max_length=150, db_index=True)
    roles = models.CharField(_("roller"), max_length=300, blank=True)
    unit = models.CharField(_("enhet"), max_length=200, blank=True)
    action = models.CharField(_("åtgärd"), max_length=10, choices=Action.choices, db_index=True)
    object_type = models.CharField(_("objekttyp"), max_length=60, blank=True, db_index=True)
    object_id = models.CharField(_("objekt-id"), max_length=100, blank=True)
    object_repr = models.CharField(_("objekt"), max_length=300, blank=True)
    path = models.CharField(_("adress"), max_length=500, blank=True)
    reason = models.CharField(_("skäl eller diarienummer"), max_length=500, blank=True)
    recipient = models.CharField(_("mottagare"), max_length=300, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name = _("loggpost")
        verbose_name_plural = _("åtkomstlogg")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The access log is append-only: entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The access log is append-only: entries cannot be deleted.")


class AccessReview(models.Model):
    """A completed periodic review of users' access rights."""

    reviewed_at = models.DateTimeField(_("granskad"), default=timezone.now)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    users_reviewed = models.PositiveIntegerField(_("antal användare"))
    note = models.TextField(_("anteckning"), blank=True)

    class Meta:
        ordering = ["-reviewed_at"]
        verbose_name = _("behörighetsgranskning")
        verbose_name_plural = _("behörighetsgranskningar")

    def __str__(self) -> str:
        return f"{self.reviewed_at:%Y-%m-%d} ({self.users_reviewed})"


class ImportRecord(models.Model):
    """Every import of a file: what, by whom, when, and how many rows were accepted or rejected.

    A background import's record is ``running`` until the import's transaction sets its
    outcome together with the rows (or the page finds the process gone and marks it failed).
    """

    class Status(models.TextChoices):
        COMMITTED = "committed", _("Genomförd")
        FAILED = "failed", _("Avbruten, inget sparat")
        UNCHANGED = "unchanged", _("Redan importerad, inget nytt")
        RUNNING = "running", _("Importeras")

    kind = models.CharField(_("typ"), max_length=40)
    file_name = models.CharField(_("fil"), max_length=500)
    sha256 = models.CharField(_("filens SHA-256"), max_length=64, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    username = models.CharField(_("användare"), max_length=150, blank=True)
    started_at = models.DateTimeField(_("start"), default=timezone.now)
    finished_at = models.DateTimeField(_("klar"), null=True, blank=True)
    accepted = models.PositiveIntegerField(_("godkända"), default=0)
    rejected = models.PositiveIntegerField(_("avvisade"), default=0)
    added = models.PositiveIntegerField(_("nya"), default=0)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    message = models.TextField(_("meddelande"), blank=True)
    options = models.JSONField(_("val"), default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("import")
        verbose_name_plural = _("importer")

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} ({self.status})"


class ApiToken(models.Model):
    """A personal API token. Only the SHA-256 of the key is stored; the key is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("början av nyckeln"), max_length=8, editable=False)
    name = models.CharField(_("namn"), max_length=100, blank=True)
    created = models.DateTimeField(_("skapad"), default=timezone.now)
    expires = models.DateTimeField(_("upphör"), null=True, blank=True)
    last_used = models.DateTimeField(_("senast använd"), null=True, blank=True)

    class Meta:
        verbose_name = _("API-nyckel")
        verbose_name_plural = _("API-nycklar")

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"

    @staticmethod
    def hash_key(key: str) -> str:
        import hashlib

        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name: str = "", days: int | None = 365) -> tuple[ApiToken, str]:
        """Create a token for ``user``; return it and the clear-text key (shown once)."""
        import secrets
        from datetime import timedelta

        key = "pb_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            key_hash=cls.hash_key(key),
            prefix=key[:8],
            name=name,
            expires=timezone.now() + timedelta(days=days) if days else None,
        )
        return token, key
