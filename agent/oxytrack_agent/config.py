"""Where the agent keeps its files, and its TOML configuration and token.

Paths come from platformdirs on Windows (%APPDATA%/%LOCALAPPDATA%) and macOS
(~/Library); on Linux from the XDG base directories (XDG_CONFIG_HOME,
XDG_DATA_HOME), read here as platformdirs reads them, since platformdirs and
its tempfile, shutil, bz2 and lzma cost the running agent ~0.8 MiB.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import tomli_w

from oxytrack_agent.i18n import _

APP_NAME = "oxytrack-agent"


class FatalError(Exception):
    """Stop with a clear message for the employee (not retried)."""


def is_loopback(host: str) -> bool:
    """True for this machine's own addresses: localhost, 127.0.0.0/8, ::1."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        # Any other name may resolve anywhere: it is not trusted as local.
        return False


def plain_http_off_machine(server: str) -> bool:
    """True when `server` is http:// to another machine: the token would cross in clear."""
    parts = urlsplit(server)
    return parts.scheme.lower() == "http" and not is_loopback(parts.hostname or "")


def xdg_base_dir(variable: str, default: str) -> Path:
    """An XDG base directory: the variable when it holds an absolute path, else `default`.

    The XDG spec says to ignore a relative value; platformdirs does the same.
    """
    value = os.environ.get(variable, "")
    return Path(value if os.path.isabs(value) else os.path.expanduser(default))


@dataclass(frozen=True)
class Paths:
    """Every file the agent writes."""

    config_dir: Path
    data_dir: Path

    @classmethod
    def default(cls) -> Paths:
        """The platform directories for the current user."""
        if sys.platform == "win32" or sys.platform == "darwin":
            import platformdirs

            return cls(
                config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
                data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            )
        return cls(
            config_dir=xdg_base_dir("XDG_CONFIG_HOME", "~/.config") / APP_NAME,
            data_dir=xdg_base_dir("XDG_DATA_HOME", "~/.local/share") / APP_NAME,
        )

    @property
    def config_file(self) -> Path:
        """The TOML settings."""
        return self.config_dir / "config.toml"

    @property
    def token_file(self) -> Path:
        """The device token, readable by the user only."""
        return self.config_dir / "token"

    @property
    def policy_file(self) -> Path:
        """The last policy received."""
        return self.config_dir / "policy.json"

    @property
    def queue_file(self) -> Path:
        """The SQLite outbox."""
        return self.data_dir / "queue.sqlite3"

    @property
    def lock_file(self) -> Path:
        """The single-instance lock."""
        return self.data_dir / "agent.lock"

    @property
    def log_file(self) -> Path:
        """The agent's log (rotated)."""
        return self.data_dir / "agent.log"


@dataclass(frozen=True)
class Config:
    """What enrollment decided: the server, this device, TLS trust."""

    server: str
    device_id: str
    ca_bundle: str | None = None
    agency: str | None = None
    service: str | None = None
    #: Enrolled with --insecure-http: plain HTTP to another machine, on purpose.
    insecure_http: bool = False

    @property
    def api(self) -> str:
        """The agent API's base URL (no trailing slash)."""
        return self.server.rstrip("/") + "/api/agent/v1"

    @property
    def verify(self) -> str | bool:
        """TLS trust: the internal CA bundle if set, else the system store."""
        return self.ca_bundle or True


def load_config(paths: Paths) -> Config:
    """The saved configuration; FatalError when the agent is not enrolled."""
    try:
        data = tomllib.loads(paths.config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FatalError(
            _("Agent non inscrit : lancez « oxytrack-agent enroll --server URL --key CLÉ ».")
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise FatalError(
            _("Configuration illisible ({path}) : {error}").format(
                path=paths.config_file, error=exc
            )
        ) from None
    try:
        return Config(
            server=str(data["server"]),
            device_id=str(data["device_id"]),
            ca_bundle=data.get("ca_bundle") or None,
            agency=data.get("agency") or None,
            service=data.get("service") or None,
            insecure_http=data.get("insecure_http") is True,
        )
    except KeyError as exc:
        raise FatalError(
            _("Configuration incomplète : {key} manque ({path})").format(
                key=exc, path=paths.config_file
            )
        ) from None


def transport_warning(config: Config) -> str | None:
    """What `status` says when the connection to the server is not encrypted, else None."""
    if config.insecure_http or plain_http_off_machine(config.server):
        return _(
            "la connexion au serveur n'est pas chiffrée (http://) : le jeton de l'appareil "
            "et les données passent en clair sur le réseau."
        )
    return None


def save_config(paths: Paths, config: Config) -> None:
    """Write the TOML settings (empty values left out)."""
    data = {k: v for k, v in vars(config).items() if v}
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    tmp = paths.config_file.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    tmp.replace(paths.config_file)


def save_token(paths: Paths, token: str) -> None:
    """Write the token so that only this user can read it (0600 on POSIX).

    On Windows the file gets one ACL entry, the user's (acl.py): the profile's
    own ACL would also let SYSTEM and the Administrators in.
    """
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    tmp = paths.token_file.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    # Create with the final mode: no window where the token is world-readable.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token)
    if sys.platform == "win32":
        from oxytrack_agent.acl import restrict_to_current_user

        restrict_to_current_user(tmp)  # before the rename: never readable by others
    tmp.replace(paths.token_file)


def load_token(paths: Paths) -> str:
    """The device token; FatalError when missing."""
    try:
        token = paths.token_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    if not token:
        raise FatalError(_("Jeton absent : réinscrivez l'agent (oxytrack-agent enroll)."))
    return token


def agent_command(*args: str) -> list[str]:
    """How to run `oxytrack-agent ARGS` with this very installation (autostart, the tray)."""
    if getattr(sys, "frozen", False):
        # The frozen Windows agent (PyInstaller): the exe is the command, no `-m`.
        return [sys.executable, *args]
    return [sys.executable, "-m", "oxytrack_agent", *args]


def executable_command() -> list[str]:
    """How to start this agent again (for autostart entries)."""
    return agent_command("run")
