"""Enrollment: `GET choices`, `POST enroll`, and the installer's Tk dialog."""

from __future__ import annotations

import array
import os
import platform
import re
import socket
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from oxytrack_agent import __version__
from oxytrack_agent.config import (
    Config,
    FatalError,
    Paths,
    plain_http_off_machine,
    save_config,
    save_token,
)
from oxytrack_agent.http import BadCaBundle, Response, TransportError, request, tls_context
from oxytrack_agent.i18n import _
from oxytrack_agent.platforms import full_user_name
from oxytrack_agent.policy import Policy, save_policy


class EnrollmentConflict(FatalError):
    """409: the employee already belongs elsewhere; the message says what to do."""


@dataclass(frozen=True)
class Choices:
    """The names the server offers in the dialog."""

    agencies: list[str]
    services: list[str]


def local_time_zone() -> str:
    """The IANA name of this machine's time zone (e.g. Europe/Paris)."""
    from oxytrack_agent.localzone import local_zone_name

    return local_zone_name()


def local_ips() -> list[str]:
    """This machine's non-loopback addresses (behind a VPN they differ from last_ip)."""
    found: list[str] = []
    addresses = _linux_addresses() if sys.platform.startswith("linux") else _psutil_addresses()
    for address in addresses:
        ip = address.split("%", 1)[0]
        if ip.startswith(("127.", "::1", "fe80")) or ip in found:
            continue
        found.append(ip)
    return found[:32]


def _psutil_addresses() -> list[str]:
    # Imported here, not at start: `run` needs it only at its first upload.
    import psutil

    return [
        address.address
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family in (socket.AF_INET, socket.AF_INET6)
    ]


#: ioctl asking the kernel for every IPv4 address of every interface (netdevice(7)).
_SIOCGIFCONF = 0x8912
#: struct ifreq: a 16-byte name, then a union as large as struct ifmap.
_IFREQ_SIZE = 16 + struct.calcsize("LLHBBB0L")


def _linux_addresses() -> list[str]:
    """Every IPv4 (SIOCGIFCONF) and IPv6 (/proc/net/if_inet6) address, standard library only.

    psutil would do it too, but stays resident afterwards (~1 MiB of the
    always-running agent's budget) for one call per upload.
    """
    import fcntl

    found: list[str] = []
    size = 64 * _IFREQ_SIZE
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        while True:
            buffer = array.array("B", bytes(size))
            request = struct.pack("iL", size, buffer.buffer_info()[0])
            try:
                used = struct.unpack("iL", fcntl.ioctl(sock.fileno(), _SIOCGIFCONF, request))[0]
            except OSError:
                used = 0
            if used < size or size >= 4096 * _IFREQ_SIZE:
                break
            size *= 4  # it filled the buffer: there may be more
    raw = buffer.tobytes()
    for at in range(0, used, _IFREQ_SIZE):
        # sockaddr_in after the name: family (2 bytes), port (2), address (4).
        found.append(socket.inet_ntop(socket.AF_INET, raw[at + 20 : at + 24]))
    try:
        with open("/proc/net/if_inet6", encoding="ascii") as table:
            for line in table:
                # "<32 hex digits> <ifindex> <prefix> <scope> <flags> <name>"
                found.append(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(line.split()[0])))
    except (OSError, ValueError, IndexError):
        pass  # IPv6 switched off: no table
    return found


#: The server's limit for `display_name` (docs/api.md).
MAX_DISPLAY_NAME = 200
# C0/C1 controls and bidi controls: the server removes them too; removing them
# here first keeps the 200-character cut on what will actually be shown.
_UNSHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_display_name(name: str) -> str:
    """`name` without control or bidi characters, trimmed and cut to the server's limit."""
    return _UNSHOWN.sub("", name).strip()[:MAX_DISPLAY_NAME].strip()


def machine_identity() -> dict[str, Any]:
    """username, domain, display_name (when the OS knows it), hostname, os,
    agent_version, time_zone, local_ips."""
    # Here, not at start: getpass loads termios, which `run` never needs.
    import getpass

    identity: dict[str, Any] = {
        "username": getpass.getuser(),
        "hostname": socket.gethostname(),
        "os": f"{platform.system()} {platform.release()}"[:100],
        "agent_version": __version__,
        "time_zone": local_time_zone(),
        "local_ips": local_ips(),
    }
    domain = os.environ.get("USERDOMAIN") if sys.platform == "win32" else None
    if domain:
        identity["domain"] = domain
    display_name = clean_display_name(full_user_name())
    if display_name:
        identity["display_name"] = display_name
    return identity


def check_server_url(server: str, *, insecure_http: bool = False) -> None:
    """Refuse (FatalError) an address that is not http(s), or plain http:// to another
    machine unless `insecure_http`: the device token would cross the network in clear.

    Loopback (localhost, 127.0.0.0/8, ::1) stays allowed: nothing leaves the PC.
    """
    parts = urlsplit(server)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FatalError(
            _(
                "Adresse du serveur invalide « {server} » : elle doit commencer par https:// "
                "(par exemple https://oxytrack.example.com)."
            ).format(server=server)
        )
    if plain_http_off_machine(server) and not insecure_http:
        raise FatalError(
            _(
                "Adresse « {server} » refusée : en http:// le jeton de l'appareil et les "
                "données passeraient en clair sur le réseau. Utilisez l'adresse https:// du "
                "serveur, ou ajoutez --insecure-http pour accepter une connexion non chiffrée."
            ).format(server=server)
        )


def _request(
    method: str, url: str, key: str, verify: str | bool, json_body: Any = None
) -> Response:
    try:
        return request(
            method,
            url,
            headers={"X-Enrollment-Key": key},
            json_body=json_body,
            timeout=30,
            context=tls_context(verify),
        )
    except TransportError as exc:
        raise FatalError(
            _("Serveur injoignable ({url}) : {error}").format(url=url, error=exc)
        ) from None
    except BadCaBundle as exc:
        raise FatalError(
            _("Certificats de l'autorité interne illisibles : {error}").format(error=exc)
        ) from None


def _message(response: Response) -> str:
    try:
        return str(response.json().get("message") or response.reason)
    except (ValueError, AttributeError):
        return f"{response.status} {response.reason}"


def fetch_choices(
    server: str, key: str, verify: str | bool = True, *, insecure_http: bool = False
) -> Choices:
    """The agencies and services to offer (GET choices)."""
    check_server_url(server, insecure_http=insecure_http)
    response = _request("GET", f"{server.rstrip('/')}/api/agent/v1/choices", key, verify)
    if response.status != 200:
        raise FatalError(
            _("Liste des agences refusée ({status}) : {message}").format(
                status=response.status, message=_message(response)
            )
        )
    data = response.json()
    return Choices([str(a) for a in data["agencies"]], [str(s) for s in data["services"]])


def enroll(
    paths: Paths,
    *,
    server: str,
    key: str,
    agency: str | None = None,
    service: str | None = None,
    ca_bundle: str | None = None,
    insecure_http: bool = False,
) -> Config:
    """POST enroll, then save the config, the token (0600) and the policy.

    Plain http:// to another machine is refused unless `insecure_http`; that
    choice is then kept in the config, and `status` warns about it.
    """
    check_server_url(server, insecure_http=insecure_http)
    body = machine_identity()
    if agency:
        body["agency"] = agency
    if service:
        body["service"] = service
    verify: str | bool = ca_bundle or True
    response = _request(
        "POST", f"{server.rstrip('/')}/api/agent/v1/enroll", key, verify, json_body=body
    )
    if response.status == 409:
        # Shown as is: the server's message tells the installer what to do.
        raise EnrollmentConflict(_message(response))
    if response.status != 201:
        raise FatalError(
            _("Inscription refusée ({status}) : {message}").format(
                status=response.status, message=_message(response)
            )
        )
    reply = response.json()
    config = Config(
        server=server.rstrip("/"),
        device_id=str(reply["device_id"]),
        ca_bundle=ca_bundle,
        agency=agency,
        service=service,
        insecure_http=plain_http_off_machine(server),
    )
    save_token(paths, str(reply["device_token"]))
    save_config(paths, config)
    save_policy(paths.policy_file, Policy.from_json(reply.get("policy") or {}))
    return config


def dialog_submit(
    paths: Paths,
    *,
    server: str,
    key: str,
    ca_bundle: str | None = None,
    insecure_http: bool = False,
) -> Callable[[str, str], str | None]:
    """The dialog's `submit`: enroll with the picked agency and service.

    None on success, else the message to show in the dialog (the server's
    409 text, as is).
    """

    def submit(agency: str, service: str) -> str | None:
        try:
            enroll(
                paths,
                server=server,
                key=key,
                agency=agency,
                service=service,
                ca_bundle=ca_bundle,
                insecure_http=insecure_http,
            )
        except FatalError as exc:
            return str(exc)
        return None

    return submit


def run_dialog(
    choices: Choices,
    submit: Callable[[str, str], str | None],
) -> tuple[str, str] | None:
    """The installer's dialog: pick an agency and a service, then Valider.

    `submit(agency, service)` enrolls and returns None on success or the
    message to show (e.g. the server's 409 text, as is). Returns the choice,
    or None if the window was closed.
    """
    import tkinter as tk
    from tkinter import ttk

    # An ASCII class name so installers' scripts (and tests) can find the window.
    root = tk.Tk(className="OxytrackEnroll")
    root.title(_("OxyTrack — inscription"))
    root.resizable(False, False)
    frame = ttk.Frame(root, padding=16)
    frame.grid()
    ttk.Label(frame, text=_("Choisissez votre agence et votre service.")).grid(
        row=0, column=0, columnspan=2, sticky="w", pady=(0, 8)
    )
    agency = tk.StringVar(root)
    service = tk.StringVar(root)
    ttk.Label(frame, text=_("Agence :")).grid(row=1, column=0, sticky="w")
    agency_box = ttk.Combobox(
        frame, textvariable=agency, values=choices.agencies, state="readonly", width=32
    )
    agency_box.grid(row=1, column=1, pady=2)
    ttk.Label(frame, text=_("Service :")).grid(row=2, column=0, sticky="w")
    service_box = ttk.Combobox(
        frame, textvariable=service, values=choices.services, state="readonly", width=32
    )
    service_box.grid(row=2, column=1, pady=2)
    message = tk.StringVar(root)
    ttk.Label(frame, textvariable=message, foreground="#b00020", wraplength=360).grid(
        row=3, column=0, columnspan=2, sticky="w", pady=8
    )
    result: list[tuple[str, str]] = []

    def show(text: str) -> None:
        message.set(text)
        # Also on stderr, for the logs of scripted installs.
        print(text, file=sys.stderr, flush=True)

    def validate(*_args: object) -> None:
        if not agency.get() or not service.get():
            show(_("Choisissez une agence et un service avant de valider."))
            return
        error = submit(agency.get(), service.get())
        if error is not None:
            show(error)
            return
        result.append((agency.get(), service.get()))
        root.destroy()

    button = ttk.Button(frame, text=_("Valider"), command=validate)
    button.grid(row=4, column=1, sticky="e")
    root.bind("<Return>", validate)
    agency_box.focus_set()
    root.mainloop()
    return result[0] if result else None
