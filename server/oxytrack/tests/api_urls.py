"""The site's URLconf plus one form view under /api/, for the tests of
answers no agent API route gives today (a CSRF failure, a too-large form)
but a future /api/ view could."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from oxytrack.urls import handler400, handler404, handler500
from oxytrack.urls import urlpatterns as site_urlpatterns


def form_view(request: HttpRequest) -> HttpResponse:
    """A CSRF-protected form view: reads the form body, as a form view does."""
    return HttpResponse(f"{len(request.POST)} fields", content_type="text/plain")


urlpatterns = [path("api/test/form", form_view), *site_urlpatterns]
__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]
