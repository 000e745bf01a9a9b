from django.urls import path

from oxytrack.accounts import views

app_name = "accounts"
urlpatterns = [
    path("admins/", views.admins, name="admins"),
    path("admins/new/", views.admin_create, name="admin_create"),
    path("admins/<int:pk>/delete/", views.admin_delete, name="admin_delete"),
]
