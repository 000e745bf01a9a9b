"""`oxytrack-agent portal`: the employee's own page on the server, opened in the browser.

The agent exchanges its device token for a one-time link (single use, a couple
of minutes) and hands it to the browser; the token itself never leaves this
process. Without a desktop (no DISPLAY) the link is printed instead.
"""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from oxytrack_agent.config import Config, FatalError
from oxytrack_agent.i18n import _
from oxytrack_agent.uploader import Client, TransientError, error_message


@dataclass(frozen=True)
class PortalLink:
    url: str
    expires_at: datetime


def request_link(config: Config, token: str, *, timeout: float = 30.0) -> PortalLink:
    """Ask the server for a one-time portal link (FatalError with a readable reason)."""
    client = Client(config, token, timeout=timeout)
    try:
        response = client._call("POST", "portal-link", timeout)
    except TransientError as exc:
        raise FatalError(
            _("Portail inaccessible pour le moment : {error}").format(error=exc)
        ) from None
    finally:
        client.close()
    if response.status != 201:
        raise FatalError(
            _("Le serveur refuse le lien du portail : {error}").format(
                error=error_message(response)
            )
        )
    try:
        data = response.json()
        # The server's address as this agent knows it (a proxy may give `url` an inner one).
        url = config.server.rstrip("/") + str(data["path"])
        expires_at = datetime.fromisoformat(str(data["expires_at"]))
    except (ValueError, KeyError, TypeError):
        raise FatalError(_("Réponse du serveur illisible pour le lien du portail.")) from None
    return PortalLink(url=url, expires_at=expires_at)


def open_portal(
    link: PortalLink,
    *,
    has_display: bool,
    print_line: Callable[[str], None] = print,
    browser_open: Callable[[str], bool] = webbrowser.open,
) -> bool:
    """Open `link` in the browser, or print it; True if a browser took it."""
    until = link.expires_at.astimezone().strftime("%H:%M:%S")
    if has_display and browser_open(link.url):
        print_line(
            _(
                "Portail ouvert dans votre navigateur (lien valable une fois, jusqu'à {time})."
            ).format(time=until)
        )
        return True
    print_line(
        _("Ouvrez ce lien dans votre navigateur (valable une fois, jusqu'à {time}) :").format(
            time=until
        )
    )
    print_line(link.url)
    return False
