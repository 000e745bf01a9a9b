"""Error pages every app shares."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 404 page: back home or to the login."""
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page, with no context processor that touches the database: it may be what failed."""
    return render(request, "500.html", status=500)
