"""The `oxytrack-agent` command: enroll, run, status, autostart, uninstall."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from types import FrameType
from typing import Any

from oxytrack_agent import __version__
from oxytrack_agent.config import Config, FatalError, Paths, load_config, load_token
from oxytrack_agent.enroll import (
    EnrollmentConflict,
    dialog_submit,
    enroll,
    fetch_choices,
    local_ips,
    local_time_zone,
    run_dialog,
)
from oxytrack_agent.health import Health, state_path
from oxytrack_agent.i18n import _, install_argparse
from oxytrack_agent.lock import AlreadyRunning, SingleInstance, is_running
from oxytrack_agent.logfile import RotatingLog
from oxytrack_agent.pause import PauseRefused, PauseWatch, pause_path, start_pause, stop_pause
from oxytrack_agent.platforms import (
    Platform,
    UnsupportedPlatform,
    current_platform,
    wayland_without_x11,
)
from oxytrack_agent.policy import load_policy, save_policy
from oxytrack_agent.queue import Queue
from oxytrack_agent.sampler import Sampler, SessionEnd
from oxytrack_agent.spool import DEFAULT_MEMORY_LIMIT_S, Spool
from oxytrack_agent.uploader import (
    Client,
    PolicyHolder,
    ReenrollRequired,
    TransientError,
    Uploader,
)

log = logging.getLogger("oxytrack_agent")

#: On SIGTERM/logoff the whole shutdown (close, store, last upload) fits in this.
SHUTDOWN_BUDGET_S = 5.0


def _local_tz() -> tzinfo:
    from oxytrack_agent.localzone import local_zone

    return local_zone()


def _setup_logging(paths: Paths, level: str) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    try:
        paths.data_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(RotatingLog(paths.log_file, max_bytes=1_000_000, backups=3))
    except OSError as exc:  # no room for even an empty file: log to stderr only
        print(_("journal indisponible : {error}").format(error=exc), file=sys.stderr)
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY"))


# --- enroll ------------------------------------------------------------------------


def cmd_enroll(args: argparse.Namespace, paths: Paths) -> int:
    """Enroll silently (agency and service given) or through the dialog."""
    if (args.agency and args.service) or args.no_dialog or not _has_display():
        config = enroll(
            paths,
            server=args.server,
            key=args.key,
            agency=args.agency,
            service=args.service,
            ca_bundle=args.ca_bundle,
            insecure_http=args.insecure_http,
        )
        print(
            _("Appareil inscrit auprès de {server} ({device}).").format(
                server=config.server, device=config.device_id
            )
        )
        return 0
    # Checked before the dialog opens: an http:// address is refused as in a silent install.
    choices = fetch_choices(
        args.server, args.key, args.ca_bundle or True, insecure_http=args.insecure_http
    )

    submit = dialog_submit(
        paths,
        server=args.server,
        key=args.key,
        ca_bundle=args.ca_bundle,
        insecure_http=args.insecure_http,
    )
    picked = run_dialog(choices, submit)
    if picked is None:
        print(_("Inscription annulée."), file=sys.stderr)
        return 1
    print(
        _("Appareil inscrit : agence {agency}, service {service}.").format(
            agency=picked[0], service=picked[1]
        )
    )
    return 0


# --- logon (the MSI's Run entry), and the MSI's uninstall steps ---------------------


def cmd_logon(args: argparse.Namespace, paths: Paths) -> int:
    """Enroll this user from the machine settings if needed (firstlogon.py), then run."""
    from oxytrack_agent.firstlogon import enroll_at_logon

    _setup_logging(paths, args.log_level)
    if not enroll_at_logon(paths, has_display=_has_display()):
        return 1
    return cmd_run(args, paths)


def cmd_stop_all(_args: argparse.Namespace, _paths: Paths) -> int:
    """Stop the agents of every session (the MSI's uninstall, as SYSTEM)."""
    from oxytrack_agent.installer import stop_agents

    stop_agents()
    return 0


def cmd_purge_all_users(_args: argparse.Namespace, _paths: Paths) -> int:
    """Remove every profile's local agent data (the MSI's uninstall with REMOVE_LOCAL_DATA=1)."""
    from oxytrack_agent.installer import purge_users_data, stop_agents, windows_profiles

    stop_agents()  # an agent started meanwhile would keep its queue open
    purge_users_data(windows_profiles())
    return 0


# --- run ---------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, paths: Paths) -> int:
    """Sample, store and upload until SIGTERM, SIGINT, SIGHUP or logoff.

    A full or failing disk never ends it (spans wait in memory, see spool.py).
    """
    config = load_config(paths)
    token = load_token(paths)
    Client(config, token).close()  # a missing CA bundle stops here, not in a thread
    _setup_logging(paths, args.log_level)
    try:
        lock = SingleInstance(paths.lock_file)
    except AlreadyRunning as exc:
        print(str(exc), file=sys.stderr)
        return 3
    health = Health(state_path(paths.data_dir))
    tz = _local_tz()
    spool = Spool(
        paths.queue_file,
        tz=tz,
        health=health,
        memory_limit_s=args.memory_limit or DEFAULT_MEMORY_LIMIT_S,
    )
    try:
        try:
            platform = current_platform()
        except UnsupportedPlatform as exc:
            # Say so, record nothing: guessed windows would be garbage.
            log.error("%s", exc)
            health.update(platform_note=str(exc))
            return 2
        health.update(platform_note=None)
        return _run(args, paths, config, token, spool, health, platform, tz)
    finally:
        spool.close()
        health.close()
        lock.release()


def _open_queue_when_possible(path: Path, stop: threading.Event, retry_s: float) -> Queue | None:
    """The uploader's own connection, retried while the disk refuses it; None if stopped."""
    failures = 0
    while not stop.is_set():
        try:
            return Queue(path)
        except (sqlite3.Error, OSError) as exc:
            failures += 1
            if failures % 30 == 1:
                log.warning("uploader waits for the local queue: %s", exc)
            stop.wait(retry_s)
    return None


def _run(
    args: argparse.Namespace,
    paths: Paths,
    config: Config,
    token: str,
    spool: Spool,
    health: Health,
    plat: Platform,
    tz: tzinfo,
) -> int:
    tz_name = local_time_zone()
    policy = PolicyHolder(
        load_policy(paths.policy_file), on_change=lambda p: save_policy(paths.policy_file, p)
    )

    def upload_interval() -> float:
        return float(args.upload_interval or policy.get().upload_interval_s)

    stop = threading.Event()
    wake = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_signal)

    def uploader_thread() -> None:
        client = Client(config, token)
        try:
            try:
                policy.set(client.get_policy())
            except (TransientError, ReenrollRequired) as exc:
                log.warning("policy not refreshed at start: %s", exc)
            except OSError as exc:
                log.warning("policy not saved (disk): %s", exc)
            own_queue = _open_queue_when_possible(paths.queue_file, stop, upload_interval())
            if own_queue is None:
                return
            try:
                Uploader(
                    own_queue,
                    client,
                    policy,
                    time_zone=lambda: tz_name,
                    local_ips=local_ips,
                    interval=upload_interval,
                    health=health,
                ).run(stop, wake)
            finally:
                own_queue.close()
        finally:
            client.close()

    thread = threading.Thread(target=uploader_thread, name="uploader", daemon=True)
    thread.start()
    sampler = Sampler(
        plat,
        spool,
        policy,
        tz=tz,
        idle_threshold_override=args.idle_threshold,
        cut_every=upload_interval,
        on_cut=wake.set,
        pause=PauseWatch(pause_path(paths.data_dir)),
    )
    # Windows: logoff and shutdown come as messages to the platform's window.
    on_session_end = getattr(plat, "on_session_end", None)
    if on_session_end is not None:
        on_session_end(SessionEnd(sampler, stop))
    log.info(
        "oxytrack-agent %s running on %s (upload every %ss, idle after %ss)",
        __version__,
        plat.name,
        upload_interval(),
        args.idle_threshold or policy.get().idle_threshold_s,
    )
    try:
        sampler.run(stop)
    except Exception as exc:
        # The display went away (logoff) or the platform broke: shut down cleanly.
        # (A refusing disk never lands here: the spool keeps spans in memory.)
        log.warning("sampling ended: %s", type(exc).__name__)
    deadline = time.monotonic() + SHUTDOWN_BUDGET_S
    stop.set()
    wake.set()
    sampler.finish()
    # The display may already be gone at logoff.
    with contextlib.suppress(Exception):
        plat.close()
    # A batch the uploader has on the wire finishes (or times out) first, so the
    # final upload does not send it a second time beside it; half the budget at most.
    thread.join(max(0.0, (deadline - time.monotonic()) / 2))
    if spool.queue is not None:
        final_upload(spool.queue, config, token, policy, tz_name, deadline)
    return 0


def final_upload(
    queue: Queue,
    config: Config,
    token: str,
    policy: PolicyHolder,
    tz_name: str,
    deadline: float,
) -> bool:
    """One last attempt before `deadline` (monotonic); True if everything left."""
    remaining = deadline - time.monotonic()
    try:
        if remaining <= 0.2 or queue.meta("needs_reenroll"):
            return False
    except sqlite3.Error:
        return False
    client = Client(config, token, timeout=max(0.2, remaining - 0.1))
    try:
        result = Uploader(
            queue,
            client,
            policy,
            time_zone=lambda: tz_name,
            local_ips=local_ips,
            interval=lambda: 0.0,
        ).upload_once()
        if result.sent_batches:
            log.info("last upload: %s", result)
        return True
    except (TransientError, ReenrollRequired) as exc:
        log.warning("last upload failed, kept for next time: %s", exc)
        return False
    except (sqlite3.Error, OSError) as exc:
        log.warning("last upload skipped, local queue unavailable: %s", exc)
        return False
    finally:
        client.close()


# --- status, autostart, uninstall ---------------------------------------------------


def cmd_status(_args: argparse.Namespace, paths: Paths) -> int:
    """Print whether the agent runs, what it collects, today's titles and what waits."""
    note = None
    if sys.platform.startswith("linux") and wayland_without_x11():
        note = _(
            "session Wayland sans X11 : la fenêtre active ne peut pas être lue, "
            "rien n'est enregistré."
        )
    from oxytrack_agent.status import render_status

    sys.stdout.write(render_status(paths, _local_tz(), platform_note=note))
    return 0


def cmd_pause(args: argparse.Namespace, paths: Paths) -> int:
    """Start the private pause (the running agent sees it within a second)."""
    policy = load_policy(paths.policy_file)
    tz = _local_tz()
    try:
        state = start_pause(
            pause_path(paths.data_dir),
            args.minutes,
            max_minutes=policy.pause_max_minutes_per_day,
            t=time.time(),
            tz=tz,
        )
    except PauseRefused as exc:
        print(str(exc), file=sys.stderr)
        return 5
    until = datetime.fromtimestamp(state.until or 0, tz=tz).strftime("%H:%M")
    print(
        _(
            "Pause privée jusqu'à {time} : rien n'est enregistré, le temps compte comme "
            "« non suivi ». Reprendre avant : oxytrack-agent resume"
        ).format(time=until)
    )
    if not is_running(paths.lock_file):
        print(_("(L'agent ne tourne pas en ce moment : rien n'est mesuré de toute façon.)"))
    return 0


def cmd_resume(_args: argparse.Namespace, paths: Paths) -> int:
    """End the private pause now."""
    policy = load_policy(paths.policy_file)
    stopped = stop_pause(
        pause_path(paths.data_dir),
        max_minutes=policy.pause_max_minutes_per_day,
        t=time.time(),
        tz=_local_tz(),
    )
    print(_("Suivi repris.") if stopped else _("Pas de pause en cours."))
    return 0


def cmd_pause_window(_args: argparse.Namespace, paths: Paths) -> int:
    """The small pause control for desktop sessions."""
    if not _has_display():
        print(_("Pas de bureau : utilisez oxytrack-agent pause / resume."), file=sys.stderr)
        return 2
    from oxytrack_agent.pausewin import run_window

    return run_window(paths, _local_tz())


def cmd_tray(args: argparse.Namespace, paths: Paths) -> int:
    """The pause control in the notification area (its own process: never the agent's)."""
    if not _has_display():
        print(_("Pas de bureau : utilisez oxytrack-agent pause / resume."), file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    from oxytrack_agent.tray import run_tray

    return run_tray(paths, _local_tz(), host_wait_s=args.wait_for_tray)


def cmd_status_window(_args: argparse.Namespace, paths: Paths) -> int:
    """`status` in a small window (the tray's "detailed status" item)."""
    if not _has_display():
        return cmd_status(_args, paths)
    from oxytrack_agent.pausewin import run_text_window
    from oxytrack_agent.status import render_status

    return run_text_window(
        paths, _("OxyTrack : état de l'agent"), render_status(paths, _local_tz())
    )


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("un nombre de minutes, par exemple 15")) from None
    if not 1 <= value <= 24 * 60:
        raise argparse.ArgumentTypeError(_("entre 1 et 1440 minutes"))
    return value


def cmd_portal(_args: argparse.Namespace, paths: Paths) -> int:
    """Open the employee's portal (what the managers see) on a one-time link."""
    from oxytrack_agent.portal import open_portal, request_link

    link = request_link(load_config(paths), load_token(paths))
    open_portal(link, has_display=_has_display())
    return 0


def cmd_install_autostart(_args: argparse.Namespace, _paths: Paths) -> int:
    """Start the agent and its pause control at every logon of this user."""
    from oxytrack_agent import autostart

    print(_("Démarrage automatique installé : {entry}").format(entry=autostart.install()))
    print(_("Contrôle de pause au démarrage : {entry}").format(entry=autostart.install_tray()))
    return 0


def cmd_uninstall_autostart(_args: argparse.Namespace, _paths: Paths) -> int:
    """Stop starting the agent at logon."""
    from oxytrack_agent import autostart

    removed = autostart.uninstall()
    print(_("Démarrage automatique retiré.") if removed else _("Pas de démarrage automatique."))
    return 0


def cmd_uninstall(_args: argparse.Namespace, paths: Paths) -> int:
    """Last upload, then remove autostart, token, config and the local queue."""
    # Not at module level: `run` never needs it (plistlib and shlex stay unloaded).
    from oxytrack_agent import autostart

    try:
        lock = SingleInstance(paths.lock_file)
    except AlreadyRunning as exc:
        print(_("{error} : arrêtez-le d'abord.").format(error=exc), file=sys.stderr)
        return 3
    try:
        if paths.queue_file.exists():
            try:
                config = load_config(paths)
                token = load_token(paths)
            except FatalError:
                pass
            else:
                queue = Queue(paths.queue_file)
                try:
                    policy = PolicyHolder(load_policy(paths.policy_file))
                    sent = final_upload(
                        queue, config, token, policy, local_time_zone(), time.monotonic() + 15
                    )
                    print(_("Dernier envoi : fait.") if sent else _("Dernier envoi : impossible."))
                finally:
                    queue.close()
        autostart.uninstall()
    finally:
        lock.release()
    import shutil  # not at module level: `run` never needs it (bz2, lzma)

    for directory in (paths.config_dir, paths.data_dir):
        shutil.rmtree(directory, ignore_errors=True)
    print(_("Agent désinstallé : démarrage automatique, jeton, configuration et file supprimés."))
    return 0


# --- parser ------------------------------------------------------------------------


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's help formatter at the terminal's width, as shutil.get_terminal_size finds it.

    Left to itself, argparse imports shutil (and its bz2 and lzma) for that at
    every parser it builds, `run` included: ~0.4 MiB of the agent's memory.
    """
    columns = 0
    with contextlib.suppress(KeyError, ValueError):
        columns = int(os.environ["COLUMNS"])
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return argparse.HelpFormatter(prog, width=(columns or 80) - 2)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help is laid out by `_help_formatter`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _help_formatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one subcommand per action)."""
    parser = _Parser(
        prog="oxytrack-agent", description=_("Agent OxyTrack (mesure du temps par application).")
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {__version__}",
        help=_("afficher la version et quitter"),
    )
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        parser_class=_Parser,
    )

    p = sub.add_parser("enroll", help=_("inscrire ce poste auprès du serveur"))
    p.add_argument("--server", required=True, help=_("adresse du serveur, https://…"))
    p.add_argument("--key", required=True, help=_("clé d'inscription (donnée par l'admin)"))
    p.add_argument("--agency", help=_("agence (installation silencieuse)"))
    p.add_argument("--service", help=_("service (installation silencieuse)"))
    p.add_argument("--ca-bundle", help=_("certificats d'une autorité interne (PEM)"))
    p.add_argument("--no-dialog", action="store_true", help=_("jamais de fenêtre"))
    p.add_argument(
        "--insecure-http",
        action="store_true",
        help=_("accepter une adresse http:// (connexion non chiffrée) vers une autre machine"),
    )
    p.set_defaults(func=cmd_enroll)

    # `logon` is what the MSI's Run entry starts in every session: enrollment if
    # needed, then `run` with the same options.
    for name, func, text in (
        ("run", cmd_run, _("mesurer et envoyer (commande de fond)")),
        ("logon", cmd_logon, _("inscrire cet utilisateur si besoin, puis mesurer")),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--upload-interval",
            type=float,
            metavar=_("SECONDES"),
            help=_("envoyer toutes les N secondes (défaut : règles du serveur)"),
        )
        p.add_argument(
            "--idle-threshold",
            type=float,
            metavar=_("SECONDES"),
            help=_("inactif après N secondes sans saisie (défaut : règles du serveur)"),
        )
        p.add_argument("--log-level", default="INFO", help=_("niveau du journal (défaut : INFO)"))
        p.add_argument(
            "--memory-limit",
            type=float,
            metavar=_("SECONDES"),
            help=_(
                "temps mesuré gardé en mémoire quand le disque refuse l'écriture (défaut : 4 h)"
            ),
        )
        p.set_defaults(func=func)

    # The MSI's uninstall steps (as SYSTEM); not for people.
    sub.add_parser("stop-all").set_defaults(func=cmd_stop_all)
    sub.add_parser("purge-all-users").set_defaults(func=cmd_purge_all_users)
    sub.add_parser(
        "status", help=_("si l'agent tourne, ce qui est collecté et ce qui attend")
    ).set_defaults(func=cmd_status)
    p = sub.add_parser(
        "pause",
        help=_("pause privée : ne rien enregistrer pendant N minutes (au plus le maximum du jour)"),
    )
    p.add_argument(
        "minutes",
        nargs="?",
        type=_minutes,
        metavar=_("MINUTES"),
        help=_("durée (défaut : tout ce qui reste aujourd'hui)"),
    )
    p.set_defaults(func=cmd_pause)
    sub.add_parser("resume", help=_("reprendre le suivi après une pause")).set_defaults(
        func=cmd_resume
    )
    sub.add_parser(
        "pause-window", help=_("petite fenêtre pour mettre en pause ou reprendre d'un clic")
    ).set_defaults(func=cmd_pause_window)
    p = sub.add_parser(
        "tray",
        help=_("icône de pause dans la zone de notification (sinon la petite fenêtre)"),
    )
    p.add_argument(
        "--wait-for-tray",
        type=float,
        default=8.0,
        metavar=_("SECONDES"),
        help=_("attendre la zone de notification au plus N secondes (défaut : 8)"),
    )
    p.set_defaults(func=cmd_tray)
    sub.add_parser(
        "status-window", help=_("l'état de l'agent dans une petite fenêtre")
    ).set_defaults(func=cmd_status_window)
    sub.add_parser(
        "install-autostart",
        help=_("démarrer l'agent et son contrôle de pause à l'ouverture de session"),
    ).set_defaults(func=cmd_install_autostart)
    sub.add_parser("uninstall-autostart", help=_("ne plus démarrer seul")).set_defaults(
        func=cmd_uninstall_autostart
    )
    sub.add_parser(
        "portal", help=_("voir dans le navigateur ce que vos responsables voient de vous")
    ).set_defaults(func=cmd_portal)
    sub.add_parser("uninstall", help=_("tout retirer de ce poste")).set_defaults(func=cmd_uninstall)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    from oxytrack_agent.winconsole import attach_parent_console

    attach_parent_console()  # the windowless exe, typed in a console (Windows)
    install_argparse()
    args = build_parser().parse_args(argv)
    paths = Paths.default()
    try:
        code: int = args.func(args, paths)
    except EnrollmentConflict as exc:
        print(str(exc), file=sys.stderr)
        return 4
    except FatalError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return code
