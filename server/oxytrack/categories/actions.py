"""Changes to category rules and app names (super-admin pages), each one audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from oxytrack.accounts.models import User
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action
from oxytrack.categories.models import AppName, Category
from oxytrack.categories.starter import BUILTIN_APP_NAMES

_RULE_FIELDS = ("name", "colour", "app_pattern", "title_pattern", "case_sensitive")


@transaction.atomic
def do_save_category(
    row: Category | None, values: dict[str, Any], *, actor: User, ip: str | None = None
) -> Category:
    """Create (row None: placed last) or change a rule. History is re-categorised at once."""
    created = row is None
    if row is None:
        last = Category.objects.aggregate(m=Max("order"))["m"] or 0
        row = Category(order=last + 1)
    else:
        # As stored: a validated ModelForm has already copied its values onto `row`.
        row = Category.objects.select_for_update().get(pk=row.pk)
    changes = {
        f: {"from": None if created else getattr(row, f), "to": values[f]}
        for f in _RULE_FIELDS
        if created or getattr(row, f) != values[f]
    }
    for field in _RULE_FIELDS:
        setattr(row, field, values[field])
    if created:
        row.save()
    elif changes:
        row.save(update_fields=list(changes))
    record(
        Action.CHANGE_CATEGORIES,
        actor=actor,
        target=row,
        target_label=row.name,
        detail={"change": "create" if created else "edit", "changes": changes},
        ip=ip,
    )
    return row


@transaction.atomic
def do_delete_category(row: Category, *, actor: User, ip: str | None = None) -> None:
    """Delete a rule: its windows fall to the next matching rule or "Non classé"."""
    detail = {"change": "delete", "rule": {f: getattr(row, f) for f in _RULE_FIELDS}}
    target_ref = ("category", str(row.pk))
    name = row.name
    row.delete()
    record(
        Action.CHANGE_CATEGORIES,
        actor=actor,
        target_label=name,
        target_ref=target_ref,
        detail=detail,
        ip=ip,
    )


@transaction.atomic
def do_move_category(row: Category, up: bool, *, actor: User, ip: str | None = None) -> None:
    """Swap a rule with its neighbour above (up) or below; the first match wins."""
    rules = list(Category.objects.select_for_update())
    index = next(i for i, r in enumerate(rules) if r.pk == row.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(rules):
        return  # already first or last: nothing changes, nothing to audit
    rules[index], rules[other] = rules[other], rules[index]
    for position, rule in enumerate(rules, start=1):
        if rule.order != position:  # renumbered too: two rules may share an order
            rule.order = position
            rule.save(update_fields=["order"])
    record(
        Action.CHANGE_CATEGORIES,
        actor=actor,
        target=row,
        target_label=row.name,
        detail={"change": "move", "order": [r.name for r in rules]},
        ip=ip,
    )


@transaction.atomic
def do_save_app_name(
    row: AppName | None, values: dict[str, str], *, actor: User, ip: str | None = None
) -> AppName:
    """Create or change a friendly name (`values["app"]` is already a match key)."""
    created = row is None
    if row is not None:
        row = AppName.objects.select_for_update().get(pk=row.pk)  # as stored (see above)
    before = None if row is None else {"app": row.app, "name": row.name}
    if row is None:
        row = AppName()
    row.app, row.name = values["app"], values["name"]
    row.save()
    record(
        Action.CHANGE_APP_NAMES,
        actor=actor,
        target=row,
        target_label=row.app,
        detail={
            "change": "create" if created else "edit",
            "from": before,
            "to": {"app": row.app, "name": row.name},
        },
        ip=ip,
    )
    return row


@transaction.atomic
def do_delete_app_name(row: AppName, *, actor: User, ip: str | None = None) -> None:
    """Delete a friendly name: that app shows its raw name again."""
    detail = {"change": "delete", "app": row.app, "name": row.name}
    target_ref = ("appname", str(row.pk))
    row.delete()
    record(
        Action.CHANGE_APP_NAMES,
        actor=actor,
        target_label=detail["app"],
        target_ref=target_ref,
        detail=detail,
        ip=ip,
    )


@transaction.atomic
def do_reset_app_names(*, actor: User, ip: str | None = None) -> int:
    """Put every built-in name back as shipped; names added by hand stay. Returns the count."""
    existing = {r.app: r for r in AppName.objects.filter(app__in=BUILTIN_APP_NAMES)}
    restored = []
    for app, name in BUILTIN_APP_NAMES.items():
        row = existing.get(app)
        if row is None:
            AppName.objects.create(app=app, name=name)
            restored.append(app)
        elif row.name != name:
            row.name = name
            row.save(update_fields=["name"])
            restored.append(app)
    record(
        Action.CHANGE_APP_NAMES,
        actor=actor,
        target_label="built-in",
        detail={"change": "reset", "restored": restored},
        ip=ip,
    )
    return len(restored)
