"""Category rules and friendly application names, both edited by the super-admin.

Both are applied at read time (classify.py, names.py): nothing about a
window's category or friendly name is stored with the activity, so an edit
changes history too.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

#: Longest pattern a rule may hold: a rule is a short expression, not a word list.
MAX_PATTERN = 1000


class Category(models.Model):
    """A named, coloured rule: the first (by order) whose patterns match a window wins.

    An empty pattern matches anything; when both are set, both must match.
    """

    name = models.CharField(_("nom"), max_length=80)
    colour = models.CharField(_("couleur"), max_length=7, default="#4c78a8")
    app_pattern = models.CharField(
        _("expression sur l'application"), max_length=MAX_PATTERN, blank=True
    )
    title_pattern = models.CharField(
        _("expression sur le titre"), max_length=MAX_PATTERN, blank=True
    )
    case_sensitive = models.BooleanField(_("respecter la casse"), default=False)
    order = models.PositiveIntegerField(_("ordre"), default=0)

    class Meta:
        ordering = ("order", "pk")
        verbose_name = _("catégorie")

    def __str__(self) -> str:
        return self.name


class AppName(models.Model):
    """A friendly name for one application, as the agents report it.

    `app` is the match key (names.app_key: lower case, without ".exe"), so
    "WINWORD.EXE", "winword.exe" and "WINWORD" share one row.
    """

    app = models.CharField(_("application"), max_length=255, unique=True)
    name = models.CharField(_("nom affiché"), max_length=120)

    class Meta:
        ordering = ("app",)
        verbose_name = _("nom d'application")

    def __str__(self) -> str:
        return f"{self.app} → {self.name}"


class Revision(models.Model):
    """One row (pk 1) whose token changes with every change to the two tables above.

    Each process keeps compiled rules and names in memory and reads this
    token (one row by primary key) before using them, so a change made through one
    gunicorn worker reaches every other at its next read. A row by primary key is
    cheaper than a read of the file cache, and lives in the same transaction as
    the change. No row at all
    means the tables were never seeded (a flushed test database): classify
    seeds them then, as the data migration does.
    """

    # Random, not a counter: a rolled-back change must never leave a process
    # holding rules under a stamp that a later, different change reuses.
    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token


class WindowCategory(models.Model):
    """The category each activity window falls in, under the rules of WindowCategoryState.

    What classify.py computes in memory, copied into the database so that pages summing a
    whole organisation group DailyUsage by category in SQL instead of reading every row
    into Python (window_map.py). Not a constraint-checked key: a purged window leaves its
    row behind, which no DailyUsage row joins any more and the next rebuild drops.
    """

    window = models.OneToOneField(
        "activity.Window",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="category_map",
    )
    # A Category id, or 0 for "Non classé": NULL in a LEFT JOIN then means "not mapped".
    category = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.window_id} → {self.category}"


class WindowCategoryState(models.Model):
    """One row (pk 1): the Revision token whose rules WindowCategory reflects ("": none)."""

    token = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return self.token


class CategoryDay(models.Model):
    """Per employee, local day and category: DailyUsage's time summed through WindowCategory.

    A rollup of DailyUsage joined to the window map (window_map.py), so that a whole
    organisation over a year is summed per category from a few rows per employee and
    day instead of every window's. It always equals that join, row for row: triggers on
    DailyUsage (`rollup.install_triggers`) add each insert, update and delete of a mapped
    window in the writer's own transaction (ingest, purge, erasure, rebuild), and every
    change to WindowCategory moves the time of the windows it changes (window_map.py),
    in the transaction that changes them. Windows the map lacks are in neither.

    `employee` is not a constraint-checked key: the triggers empty an employee's rows
    as their DailyUsage goes, whatever order a deletion takes.
    """

    employee = models.ForeignKey(
        "org.Employee",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    day = models.DateField()
    # As WindowCategory.category: a Category id, or 0 for "Non classé".
    category = models.IntegerField()
    active_ms = models.BigIntegerField(default=0)
    idle_ms = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            # Also serves the lookups by employee (the team's members) and day range.
            models.UniqueConstraint(
                fields=["employee", "day", "category"], name="categoryday_unique_employee_day_cat"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} employee {self.employee_id} category {self.category}"
