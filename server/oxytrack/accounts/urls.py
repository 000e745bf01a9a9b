from django.urls import path

from oxytrack.accounts import views

app_name = "accounts"
urlpatterns = [
    path("admins/", views.admins, name="admins"),
    path("admins/new/", views.admin_create, name="admin_create"),
    path("admins/<uuid:admin_id>/delete/", views.admin_delete, name="admin_delete"),
]
