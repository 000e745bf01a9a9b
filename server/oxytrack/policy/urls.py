from django.urls import path

from oxytrack.policy import views

app_name = "policy"
urlpatterns = [
    path("settings/policy/", views.policy_list, name="list"),
    path("settings/policy/global/", views.policy_edit, {"kind": "global"}, name="edit_global"),
    path(
        "settings/policy/agency/<int:pk>/",
        views.policy_edit,
        {"kind": "agency"},
        name="edit_agency",
    ),
    path("settings/policy/<str:kind>/preview/", views.policy_preview, name="preview"),
    path(
        "settings/policy/service/<int:pk>/",
        views.policy_edit,
        {"kind": "service"},
        name="edit_service",
    ),
]
