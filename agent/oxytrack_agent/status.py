"""`oxytrack-agent status`: whether the agent runs, what it collects, today's
titles as the server will store them, what waits, and any trouble in words.

It reads, never writes: the lock (running or not), the state file the running
agent keeps (health.py; readable on a full disk), and the queue opened
read-only. Any of them may be missing or unreadable; the report says so and
goes on. Times are shown in the PC's local time.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from oxytrack_agent.config import Config, FatalError, Paths, load_config, transport_warning
from oxytrack_agent.health import State, read_state, state_path
from oxytrack_agent.i18n import _, ngettext
from oxytrack_agent.lock import is_running
from oxytrack_agent.pause import describe_limits, describe_now
from oxytrack_agent.policy import Policy, load_policy
from oxytrack_agent.queue import Queue, QueueStats

#: Titles listed for today; the rest are summed on one line.
MAX_TITLES = 20
#: A title is cut to this many characters on screen.
MAX_TITLE_CHARS = 70
# Window titles are hostile text: no terminal control, no bidi reordering.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def human_duration(seconds: float) -> str:
    """`1 h 05 min`, `12 min`, `40 s`."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("{h} h {m:02d} min").format(h=hours, m=minutes)
    if minutes:
        return _("{m} min").format(m=minutes)
    return _("{s} s").format(s=secs)


def local_when(ts: float, tz: tzinfo, now: datetime) -> str:
    """`14:02` today, else `le 27/11/2026 à 14:02`, in local time."""
    when = datetime.fromtimestamp(ts, tz=tz)
    clock = when.strftime("%H:%M")
    if when.date() == now.astimezone(tz).date():
        return clock
    return _("le {date} à {time}").format(date=when.strftime(_("%d/%m/%Y")), time=clock)


def printable(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """A title safe to print on a terminal, cut to `limit` characters."""
    text = _UNPRINTABLE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_policy(policy: Policy) -> list[str]:
    """What is and is not collected, one sentence per line."""
    lines = []
    if policy.titles == "app_only":
        lines.append(_("- le nom de l'application au premier plan (pas les titres des fenêtres) ;"))
    else:
        lines.append(_("- le nom de l'application au premier plan et le titre de sa fenêtre ;"))
    lines.append(
        _(
            "- le temps actif et le temps inactif (inactif après {delay} sans clavier ni souris) ;"
        ).format(delay=human_duration(policy.idle_threshold_s))
    )
    if policy.input_counts:
        lines.append(_("- le nombre de touches frappées et de clics, jamais quelles touches ;"))
    else:
        lines.append(_("- pas de comptage des touches ni des clics ;"))
    lines += describe_limits(policy)  # working hours and private pause
    if policy.exclude_apps:
        lines.append(
            _("- applications privées (temps compté, nom et titre cachés) : {apps} ;").format(
                apps=", ".join(policy.exclude_apps)
            )
        )
    if policy.redact:
        lines.append(
            ngettext(
                "- {n} règle de masquage : un titre concerné est remplacé par le nom "
                "de l'application ;",
                "- {n} règles de masquage : un titre concerné est remplacé par le nom "
                "de l'application ;",
                len(policy.redact),
            ).format(n=len(policy.redact))
        )
    lines.append(
        _(
            "Jamais collecté : ce que vous tapez, les captures d'écran, le contenu des fenêtres. "
            "Le temps écran verrouillé ou en veille n'est pas compté."
        )
    )
    return lines


@dataclass(frozen=True)
class QueueView:
    """What `status` read from the queue."""

    titles: list[tuple[str, str, float, float]]
    stats: QueueStats
    needs_reenroll: bool


def read_queue(path: Path, day: str, tz: tzinfo) -> QueueView:
    """Today's titles and the queue's numbers; sqlite3.Error if unreadable."""
    queue = Queue.read_only(path)
    try:
        return QueueView(
            titles=queue.title_totals(day, tz),
            stats=queue.stats(),
            needs_reenroll=bool(queue.meta("needs_reenroll")),
        )
    finally:
        queue.close()


def describe_problems(
    state: State | None, view: QueueView | None, *, running: bool, tz: tzinfo, now: datetime
) -> list[str]:
    """Every trouble worth the employee's attention, one sentence each."""

    def when(ts: float) -> str:
        return local_when(ts, tz, now)

    out = []
    if state is not None and running and state.disk_since is not None:
        if state.disk_full:
            line = _("disque plein depuis {when}").format(when=when(state.disk_since))
        else:
            line = _("le disque refuse l'écriture depuis {when} (erreur d'entrée-sortie)").format(
                when=when(state.disk_since)
            )
        if state.memory_s > 0 and state.memory_since is not None:
            line += _(
                " : {duration} de mesures attendent en mémoire depuis {since}, écrites dès "
                "que le disque le permettra"
            ).format(duration=human_duration(state.memory_s), since=when(state.memory_since))
        out.append(line + ".")
    if state is not None and state.dropped_s > 0 and state.dropped_at is not None:
        out.append(
            _("{duration} de données perdues faute de place (la dernière fois {when}).").format(
                duration=human_duration(state.dropped_s), when=when(state.dropped_at)
            )
        )
    kind = state.upload_kind if state is not None else None
    since = state.upload_since if state is not None else None
    if kind == "reenroll" or (view is not None and view.needs_reenroll):
        out.append(_("l'envoi est arrêté : réinscrivez l'agent (oxytrack-agent enroll)."))
    elif kind == "network" and since is not None:
        out.append(
            _("serveur injoignable depuis {when} : nouvel essai automatique.").format(
                when=when(since)
            )
        )
    elif kind == "server" and since is not None:
        out.append(
            _(
                "le serveur ne prend pas les envois depuis {when} (surchargé ou en maintenance) : "
                "nouvel essai automatique."
            ).format(when=when(since))
        )
    elif kind == "internal" and since is not None:
        out.append(
            _("erreur interne de l'envoi depuis {when} : voyez le journal de l'agent.").format(
                when=when(since)
            )
        )
    if view is not None and view.stats.rejected_batches:
        n = view.stats.rejected_batches
        out.append(
            ngettext(
                "{n} lot refusé par le serveur, gardé de côté : prévenez l'administrateur.",
                "{n} lots refusés par le serveur, gardés de côté : prévenez l'administrateur.",
                n,
            ).format(n=n)
        )
    if view is not None and view.stats.dropped_spans:
        n = view.stats.dropped_spans
        out.append(
            ngettext(
                "{n} période de plus de 30 jours supprimée sans avoir été envoyée.",
                "{n} périodes de plus de 30 jours supprimées sans avoir été envoyées.",
                n,
            ).format(n=n)
        )
    return out


def describe_autostart() -> str:
    """Whether the agent and its pause control start at logon (per-user entries)."""
    from oxytrack_agent import autostart

    def yes_no(flag: bool) -> str:
        return _("oui") if flag else _("non")

    return _(
        "Démarrage à l'ouverture de session : agent {agent}, contrôle de pause {tray} "
        "(oxytrack-agent install-autostart)."
    ).format(agent=yes_no(autostart.installed()), tray=yes_no(autostart.tray_installed()))


def render_status(
    paths: Paths,
    tz: tzinfo,
    *,
    platform_note: str | None = None,
    now: datetime | None = None,
) -> str:
    """The whole report as text."""
    now = now or datetime.now(tz=tz)
    running = is_running(paths.lock_file)
    state = read_state(state_path(paths.data_dir))
    out = [_("OxyTrack — agent de mesure de l'activité sur ce poste"), ""]
    if running and state is not None and state.started_at is not None:
        out.append(
            _("Agent : en marche depuis {when}.").format(when=local_when(state.started_at, tz, now))
        )
    elif running:
        out.append(_("Agent : en marche."))
    else:
        out.append(
            _(
                "Agent : arrêté, rien n'est mesuré. Il démarre à l'ouverture de session "
                "(ou : oxytrack-agent run)."
            )
        )
    out += describe_now(load_policy(paths.policy_file), paths.data_dir, tz, now)
    out.append(describe_autostart())
    try:
        config: Config | None = load_config(paths)
    except FatalError as exc:
        config = None
        out.append(str(exc))
    if config is not None:
        out.append(
            _("Serveur : {server} (appareil {device})").format(
                server=config.server, device=config.device_id
            )
        )
        if config.agency or config.service:
            out.append(
                _("Agence : {agency} ; service : {service}").format(
                    agency=config.agency or "—", service=config.service or "—"
                )
            )
        warning = transport_warning(config)
        if warning:
            out.append(_("Attention : {note}").format(note=warning))
    # Kept after the agent stopped: an unsupported session is why it stopped.
    note = platform_note or (state.platform_note if state is not None else None)
    if note:
        out.append(_("Attention : {note}").format(note=note))
    policy = load_policy(paths.policy_file)
    out += [
        "",
        _("Ce qui est collecté (règles du serveur, version {version}) :").format(
            version=policy.version or "—"
        ),
    ]
    out += describe_policy(policy)

    view: QueueView | None = None
    unreadable: str | None = None
    if paths.queue_file.exists():
        try:
            view = read_queue(paths.queue_file, now.date().isoformat(), tz)
        except sqlite3.Error as exc:
            unreadable = str(exc)

    problems = describe_problems(state, view, running=running, tz=tz, now=now)
    if unreadable is not None:
        problems.append(
            _("la file locale est illisible pour l'instant ({reason}).").format(reason=unreadable)
        )
    if problems:
        out += ["", _("À savoir :")]
        out += [f"- {p}" for p in problems]

    out += ["", _("Aujourd'hui ({date}), tel que le serveur le recevra :").format(
        date=now.strftime(_("%d/%m/%Y"))
    )]  # fmt: skip
    if view is None or not view.titles:
        out.append(_("  rien encore."))
    else:
        # An empty app is the private pause: not tracked, never a title.
        titles = [t for t in view.titles if t[0]]
        paused = sum(t[3] for t in view.titles if not t[0])
        if paused:
            out.append(_("  {duration} non suivi (pause privée)").format(
                duration=human_duration(paused)
            ))  # fmt: skip
        for app, title, active, idle in titles[:MAX_TITLES]:
            name = printable(app, 40)
            if title and title != app:
                name += " — " + printable(title)
            out.append(
                _("  {active} actif, {idle} inactif : {name}").format(
                    active=human_duration(active), idle=human_duration(idle), name=name
                )
            )
        rest = titles[MAX_TITLES:]
        if rest:
            out.append(
                ngettext(
                    "  … et {n} autre titre ({duration} actif).",
                    "  … et {n} autres titres ({duration} actif).",
                    len(rest),
                ).format(n=len(rest), duration=human_duration(sum(t[2] for t in rest)))
            )

    out.append("")
    if view is not None and view.stats.waiting_s > 0 and view.stats.waiting_since is not None:
        out.append(
            _("En attente d'envoi : {duration} mesurées depuis {since}.").format(
                duration=human_duration(view.stats.waiting_s),
                since=local_when(view.stats.waiting_since, tz, now),
            )
        )
    elif view is not None:
        out.append(_("En attente d'envoi : rien."))
    last_success = state.last_success if state is not None else None
    if last_success is None and view is not None and view.stats.last_success:
        last_success = datetime.fromisoformat(view.stats.last_success).timestamp()
    out.append(
        _("Dernier envoi réussi : {when}.").format(
            when=local_when(last_success, tz, now) if last_success else _("jamais")
        )
    )
    return "\n".join(out) + "\n"
