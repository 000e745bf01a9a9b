from django.urls import path

from oxytrack.org import views

app_name = "org"
urlpatterns = [
    path("employees/new/", views.employee_create, name="employee_create"),
    path("employees/<uuid:public_id>/transfer/", views.employee_transfer, name="employee_transfer"),
    path("employees/<uuid:public_id>/name/", views.employee_rename, name="employee_rename"),
    path("employees/<uuid:public_id>/delete/", views.employee_delete, name="employee_delete"),
    path("settings/org/", views.org_settings, name="settings"),
    path("settings/org/agencies/<int:pk>/delete/", views.agency_delete, name="agency_delete"),
    path("settings/org/services/<int:pk>/delete/", views.service_delete, name="service_delete"),
    path("settings/retention/", views.retention_settings, name="retention"),
    path("settings/enrollment-key/", views.enrollment_key, name="enrollment_key"),
]
