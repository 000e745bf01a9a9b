from django.urls import path

from oxytrack.accounts import security_views, views

app_name = "accounts"
urlpatterns = [
    path("admins/", views.admins, name="admins"),
    path("admins/new/", views.admin_create, name="admin_create"),
    path("admins/<uuid:admin_id>/delete/", views.admin_delete, name="admin_delete"),
    # The second factor (security_views.py).
    path("login/code/", security_views.otp_verify, name="otp_verify"),
    path("security/", security_views.security, name="security"),
    path("security/setup/", security_views.otp_setup, name="otp_setup"),
    path("security/recovery-codes/", security_views.recovery_codes, name="recovery_codes"),
    path("security/disable/", security_views.otp_disable, name="otp_disable"),
]
