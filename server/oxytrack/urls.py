from django.contrib.auth import views as auth_views
from django.urls import include, path

from oxytrack.accounts.forms import LoginForm
from oxytrack.bi.api import api as bi_api
from oxytrack.ingest.api import api as agent_api

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/agent/v1/", agent_api.urls),
    # The read API for BI (bi/api.py): personal access tokens.
    path("api/v1/", bi_api.urls),
    # The employee portal: its own session, no manager login (portal/views.py).
    path("portal/", include("oxytrack.portal.urls")),
    path("", include("oxytrack.dashboard.urls")),
    path("", include("oxytrack.analytics.urls")),
    path("", include("oxytrack.org.urls")),
    path("", include("oxytrack.accounts.urls")),
    path("", include("oxytrack.policy.urls")),
    path("", include("oxytrack.categories.urls")),
    path("", include("oxytrack.audit.urls")),
    path("", include("oxytrack.compliance.urls")),
    path("", include("oxytrack.reports.urls")),
    path("", include("oxytrack.bi.urls")),
]

# Under /api/: JSON, telling a bad Host and a too-large body apart (api_errors.py).
handler400 = "oxytrack.api_errors.bad_request"
handler404 = "oxytrack.web.views.page_not_found"
handler500 = "oxytrack.web.views.server_error"
