"""Walks, their checklists and participants, findings, actions with history, and photos.

Geometry is GeoJSON text in WGS84 like :mod:`tryg.areas`; areas are referred to by code
(``area_code``), as organisations are, so findings imported for areas not (yet) loaded keep
their code. A finding's position may be missing or unplaceable (``position_flag``): then
``lat``/``lon`` are empty and it is never drawn on a map.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tryg.bounds import check_date
from tryg.walks import grid
from tryg.walks.states import ActionState, Moderation, WalkStatus


class ChecklistTemplate(models.Model):
    """Categories and rated parameters a walk records; a municipality edits its own copy.

    The template with no organisation is the default shipped with tryg
    (:func:`tryg.walks.checklists.default_template`).
    """

    name = models.CharField(_("name"), max_length=200)
    organisation = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("municipality"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="checklist_templates")
    rating_max = models.PositiveSmallIntegerField(_("highest rating"), default=3)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")

    def __str__(self) -> str:
        return self.name


class ChecklistCategory(models.Model):
    """A kind of finding (lighting, vegetation, graffiti …); ``code`` is what findings store."""

    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE,
                                 related_name="categories")
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["template", "order", "code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [models.UniqueConstraint(fields=["template", "code"],
                                               name="walks_unique_category_code")]

    def __str__(self) -> str:
        return self.name


class RatedParameter(models.Model):
    """A parameter rated 0–``template.rating_max`` (Safetipin's nine by default)."""

    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE,
                                 related_name="parameters")
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    help = models.CharField(_("explanation"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["template", "order", "code"]
        verbose_name = _("rated parameter")
        verbose_name_plural = _("rated parameters")
        constraints = [models.UniqueConstraint(fields=["template", "code"],
                                               name="walks_unique_parameter_code")]

    def __str__(self) -> str:
        return self.name


#: The longest a walk lasts: a day. More is a typo (15000 minutes), and PostgreSQL's smallint
#: column would overflow at 32767.
MAX_DURATION_MINUTES = 24 * 60


class Walk(models.Model):
    class TimeOfDay(models.TextChoices):
        DAY = "day", _("Day")
        NIGHT = "night", _("Night (after dark)")

    title = models.CharField(_("title"), max_length=200)
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    route = models.TextField(_("route (GeoJSON LineString, WGS84)"), blank=True)
    date = models.DateField(_("date"), validators=[check_date])
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=120,
        validators=[MinValueValidator(1, message=_("A walk lasts at least a minute.")),
                    MaxValueValidator(MAX_DURATION_MINUTES, message=_(
                        "A walk lasts at most %(limit_value)s minutes (24 hours)."))])
    time_of_day = models.CharField(_("day or night"), max_length=10, choices=TimeOfDay.choices,
                                   default=TimeOfDay.DAY)
    meeting_point = models.CharField(_("meeting point"), max_length=300)
    checklist = models.ForeignKey(ChecklistTemplate, verbose_name=_("checklist"),
                                  on_delete=models.PROTECT, related_name="walks")
    status = models.CharField(_("status"), max_length=20, choices=WalkStatus.choices,
                              default=WalkStatus.PLANNED)
    organiser = models.ForeignKey("accounts.Organisation", verbose_name=_("organiser"),
                                  null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="walks")
    revisit_of = models.ForeignKey("self", verbose_name=_("re-walk of"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="revisits")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    meeting_held_at = models.DateTimeField(_("closing meeting held"), null=True, blank=True)
    summary_sent_at = models.DateTimeField(_("summary sent"), null=True, blank=True)
    is_demo = models.BooleanField(_("fictional demo data"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-date", "-start_time", "-id"]
        verbose_name = _("safety walk")
        verbose_name_plural = _("safety walks")
        indexes = [models.Index(fields=["area_code", "date"], name="walks_walk_area_date")]

    def __str__(self) -> str:
        return f"{self.title} ({self.date:%Y-%m-%d})"


class Participant(models.Model):
    class Role(models.TextChoices):
        MUNICIPALITY = "municipality", _("Municipality")
        POLICE = "police", _("Police")
        HOUSING = "housing", _("Housing association")
        LOCAL_COUNCIL = "local_council", _("Local council")
        RESIDENT = "resident", _("Resident")
        OTHER = "other", _("Other")

    walk = models.ForeignKey(Walk, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="walk_participations")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices,
                            default=Role.RESIDENT)
    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("organisation"),
                                     null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="walk_participants")
    #: The personal link of a participant without an account (``/tryghedsvandring/p/<token>/``).
    token = models.CharField(_("personal link token"), max_length=64, unique=True)
    invited_at = models.DateTimeField(_("invited"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)

    class Meta:
        ordering = ["walk", "name", "id"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [models.CheckConstraint(
            condition=models.Q(user__isnull=False) | ~models.Q(name=""),
            name="walks_participant_named")]

    def __str__(self) -> str:
        return self.name


class Finding(models.Model):
    """Something that makes a place feel unsafe, from a walk, a citizen, an import or Open311."""

    class Source(models.TextChoices):
        WALK = "walk", _("Safety walk")
        CITIZEN = "citizen", _("Citizen's report")
        IMPORT = "import", _("Import")
        OPEN311 = "open311", _("Open311")

    class PositionFlag(models.TextChoices):
        PLACED = "", _("Placed")
        MISSING = "missing", _("No position given")
        DEFAULT_LOCATION = "default_location", _("The system's default location (not placed)")
        INVALID = "invalid", _("Position not valid")

    walk = models.ForeignKey(Walk, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="findings")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices,
                              default=Source.WALK)
    category = models.SlugField(_("category"), max_length=60)
    area_code = models.CharField(_("area code"), max_length=40, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    position_flag = models.CharField(_("position"), max_length=20, blank=True,
                                     choices=PositionFlag.choices, default=PositionFlag.PLACED)
    #: Grid cell of the position (:mod:`tryg.walks.grid`), set by :meth:`save` /
    #: :meth:`set_position`; the duplicate suggestion's index.
    cell_lat = models.IntegerField(null=True, blank=True, editable=False)
    cell_lon = models.IntegerField(null=True, blank=True, editable=False)
    address = models.CharField(_("address or place"), max_length=300, blank=True)
    ratings = models.JSONField(_("ratings"), default=dict, blank=True)
    text = models.TextField(_("description"), blank=True)
    suggested_fix = models.TextField(_("suggested fix"), blank=True)
    suggested_owner = models.CharField(_("suggested owner"), max_length=200, blank=True)
    is_public = models.BooleanField(_("shown publicly"), default=False)
    moderation = models.CharField(_("moderation"), max_length=20, choices=Moderation.choices,
                                  default=Moderation.NOT_NEEDED)
    #: One per observation, made by the recording device: a repeat is ignored.
    idempotency_key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    participant = models.ForeignKey(Participant, verbose_name=_("recorded by (participant)"),
                                    null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="findings")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entered by"),
                                    null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    #: A citizen's contact (optional, never published).
    reporter_name = models.CharField(_("your name"), max_length=200, blank=True)
    reporter_email = models.EmailField(_("your e-mail"), blank=True)
    observed_at = models.DateTimeField(_("observed"), null=True, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    service_code = models.CharField(_("service code"), max_length=100, blank=True)
    is_demo = models.BooleanField(_("fictional demo data"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        indexes = [
            models.Index(fields=["category", "cell_lat", "cell_lon"], name="walks_dup_cell"),
            models.Index(fields=["area_code", "is_public"], name="walks_finding_area"),
            models.Index(fields=["source", "external_id"], name="walks_finding_external"),
            models.Index(fields=["moderation"], name="walks_finding_moderation"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(lat__isnull=True, lon__isnull=True)
                           | models.Q(lat__isnull=False, lon__isnull=False,
                                      position_flag="")),
                name="walks_finding_position"),
        ]

    def __str__(self) -> str:
        return f"{self.category} #{self.pk}"

    def set_position(self, lat: float | None, lon: float | None, flag: str = "") -> None:
        """Place the finding (and its grid cell), or leave it unplaced with ``flag``."""
        if lat is None or lon is None or flag:
            self.lat = self.lon = None
            self.position_flag = flag or self.PositionFlag.MISSING
        else:
            self.lat, self.lon, self.position_flag = lat, lon, ""
        self.set_cell()

    def set_cell(self) -> None:
        if self.lat is None or self.lon is None:
            self.cell_lat = self.cell_lon = None
        else:
            self.cell_lat, self.cell_lon = grid.cell(self.lat, self.lon)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.set_cell()
        adding = self._state.adding
        super().save(*args, **kwargs)
        if not adding:  # keep the action's copies (Action.area_code, Action.started_at)
            Action.objects.filter(finding=self).update(
                area_code=self.area_code, started_at=self.observed_at or self.created_at)

    @property
    def is_placed(self) -> bool:
        return self.lat is not None and self.lon is not None


class Action(models.Model):
    """What is done about one finding, by whom, by when: its state moves per ``states``."""

    finding = models.OneToOneField(Finding, on_delete=models.CASCADE, related_name="action")
    organisation = models.ForeignKey("accounts.Organisation",
                                     verbose_name=_("responsible organisation"),
                                     null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="walk_actions")
    deadline = models.DateField(_("deadline"), null=True, blank=True, validators=[check_date])
    state = models.CharField(_("state"), max_length=20, choices=ActionState.choices,
                             default=ActionState.NEW)
    promise = models.TextField(_("what the owner promised"), blank=True)
    duplicate_of = models.ForeignKey(Finding, verbose_name=_("duplicate of"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    #: The finding's area code and start (observed, else stored), copied here so that the
    #: figures per area and the days to fix are read from the actions' indexes alone, without
    #: a lookup of each finding (tryg.walks.figures). Set by :meth:`save` and the bulk import;
    #: kept by ``Finding.save``.
    area_code = models.CharField(max_length=40, blank=True, default="", editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        indexes = [
            models.Index(fields=["organisation", "state"], name="walks_action_owner"),
            # One owner's figures read from the index alone (tryg.walks.owner_figures).
            models.Index(fields=["organisation", "state", "deadline", "closed_at", "finding"],
                         name="walks_action_owner_figures"),
            models.Index(fields=["state", "deadline"], name="walks_action_state"),
            # The figures per area, and the days to fix of every fixed action, each read from
            # one index (tryg.walks.figures).
            models.Index(fields=["area_code", "state", "deadline", "closed_at"],
                         name="walks_action_area_figures"),
            models.Index(fields=["state", "closed_at", "started_at", "deadline",
                                 "organisation", "area_code"], name="walks_action_days_to_fix"),
        ]

    def __str__(self) -> str:
        return f"{self.finding} → {self.state}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding or Action.finding.is_cached(self):
            finding = self.finding
            self.area_code = finding.area_code
            self.started_at = finding.observed_at or finding.created_at
        super().save(*args, **kwargs)


class ActionEvent(models.Model):
    """One line of an action's history: a state change, an assignment or a comment."""

    class Kind(models.TextChoices):
        STATE = "state", _("State changed")
        ASSIGN = "assign", _("Owner or deadline changed")
        COMMENT = "comment", _("Comment")
        REVISIT = "revisit", _("Re-walk")

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True,
                              blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(_("by (name)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.STATE)
    from_state = models.CharField(_("from"), max_length=20, blank=True)
    to_state = models.CharField(_("to"), max_length=20, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("action event")
        verbose_name_plural = _("action history")


class Revisit(models.Model):
    """A re-walk's verdict on an earlier finding: still fixed, or back (reopened)."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("To be checked")
        CONFIRMED = "confirmed", _("Confirmed as it is")
        REOPENED = "reopened", _("Reopened")

    walk = models.ForeignKey(Walk, on_delete=models.CASCADE, related_name="revisit_items")
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="revisits")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices,
                               default=Outcome.PENDING)
    note = models.TextField(_("note"), blank=True)
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)

    class Meta:
        ordering = ["walk", "id"]
        constraints = [models.UniqueConstraint(fields=["walk", "finding"],
                                               name="walks_unique_revisit")]


def photo_path(photo: Photo, filename: str) -> str:
    return f"walks/photos/{filename}"


class Photo(models.Model):
    """A photo of a finding or of its fix; stored re-encoded, without EXIF (``photos``)."""

    finding = models.ForeignKey(Finding, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="photos")
    action = models.ForeignKey(Action, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="photos")
    image = models.FileField(_("image"), upload_to=photo_path, max_length=300)
    content_type = models.CharField(max_length=40, default="image/jpeg")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField(_("bytes"), default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        constraints = [models.CheckConstraint(
            condition=(models.Q(finding__isnull=False, action__isnull=True)
                       | models.Q(finding__isnull=True, action__isnull=False)),
            name="walks_photo_one_owner")]


# Models kept beside the code that uses them, registered with this app.
from tryg.walks.open311.models import ApiKey  # noqa: E402,F401
