"""`oxytrack-agent status`: what is collected, today's totals, the queue, in plain French."""

from __future__ import annotations

from datetime import datetime, tzinfo

from oxytrack_agent.config import Config, FatalError, Paths, load_config, transport_warning
from oxytrack_agent.policy import Policy, load_policy
from oxytrack_agent.queue import Queue


def human_duration(seconds: float) -> str:
    """`1 h 05 min`, `12 min`, `40 s`."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def describe_policy(policy: Policy) -> list[str]:
    """What is and is not collected, one sentence per line."""
    lines = []
    if policy.titles == "app_only":
        lines.append("- le nom de l'application au premier plan (pas les titres des fenêtres) ;")
    else:
        lines.append("- le nom de l'application au premier plan et le titre de sa fenêtre ;")
    lines.append(
        "- le temps actif et le temps inactif (inactif après "
        f"{human_duration(policy.idle_threshold_s)} sans clavier ni souris) ;"
    )
    if policy.input_counts:
        lines.append("- le nombre de touches frappées et de clics, jamais quelles touches ;")
    else:
        lines.append("- pas de comptage des touches ni des clics ;")
    if policy.exclude_apps:
        lines.append(
            "- applications privées (temps compté, nom et titre cachés) : "
            + ", ".join(policy.exclude_apps)
            + " ;"
        )
    if policy.redact:
        lines.append(
            f"- {len(policy.redact)} règle(s) de masquage : un titre concerné est "
            "remplacé par le nom de l'application ;"
        )
    lines.append(
        "Jamais collecté : ce que vous tapez, les captures d'écran, le contenu des fenêtres. "
        "Le temps écran verrouillé ou en veille n'est pas compté."
    )
    return lines


def render_status(paths: Paths, tz: tzinfo, *, platform_note: str | None = None) -> str:
    """The whole report as text."""
    out = ["OxyTrack — agent de mesure du temps de travail sur ce poste", ""]
    try:
        config: Config | None = load_config(paths)
    except FatalError as exc:
        config = None
        out.append(str(exc))
    if config is not None:
        out.append(f"Serveur : {config.server} (appareil {config.device_id})")
        if config.agency or config.service:
            out.append(f"Agence : {config.agency or '—'} ; service : {config.service or '—'}")
        warning = transport_warning(config)
        if warning:
            out.append(f"Attention : {warning}")
    if platform_note:
        out.append(f"Attention : {platform_note}")
    policy = load_policy(paths.policy_file)
    out += ["", f"Ce qui est collecté (règles du serveur, version {policy.version or '—'}) :"]
    out += describe_policy(policy)
    if not paths.queue_file.exists():
        out += ["", "Aucune donnée enregistrée sur ce poste pour l'instant."]
        return "\n".join(out) + "\n"
    queue = Queue(paths.queue_file)
    try:
        today = datetime.now(tz=tz).date().isoformat()
        totals = queue.day_totals(today, tz)
        out += ["", f"Aujourd'hui ({today}) :"]
        if not totals:
            out.append("  rien encore.")
        width = max((len(app) for app, _, _ in totals), default=0)
        for app, active, idle in totals:
            out.append(
                f"  {app.ljust(width)}  {human_duration(active)} actif, "
                f"{human_duration(idle)} inactif"
            )
        stats = queue.stats()
        needs_reenroll = queue.meta("needs_reenroll")
    finally:
        queue.close()
    out += [
        "",
        f"En attente d'envoi : {stats.waiting_spans} période(s)"
        f" ({stats.pending_batches} lot(s) prêt(s)).",
    ]
    if stats.rejected_batches:
        out.append(f"Lots refusés par le serveur et gardés de côté : {stats.rejected_batches}.")
    if stats.dropped_spans:
        out.append(f"Périodes supprimées car trop anciennes (file pleine) : {stats.dropped_spans}.")
    out.append(f"Dernier envoi réussi : {stats.last_success or 'jamais'}.")
    if stats.last_error:
        out.append(f"Dernière erreur : {stats.last_error} ({stats.last_error_at}).")
    else:
        out.append("Dernière erreur : aucune.")
    if needs_reenroll:
        out.append("L'envoi est arrêté : réinscrivez l'agent (oxytrack-agent enroll).")
    return "\n".join(out) + "\n"
