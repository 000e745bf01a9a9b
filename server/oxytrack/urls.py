from django.contrib.auth import views as auth_views
from django.urls import include, path

from oxytrack.accounts.forms import LoginForm

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
    path("", include("oxytrack.dashboard.urls")),
]

handler404 = "oxytrack.dashboard.views.page_not_found"
handler500 = "oxytrack.dashboard.views.server_error"
