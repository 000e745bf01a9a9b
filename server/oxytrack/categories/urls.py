from django.urls import path

from oxytrack.categories import views

app_name = "categories"
urlpatterns = [
    path("settings/categories/", views.category_list, name="list"),
    path("settings/categories/new/", views.category_edit, name="create"),
    path("settings/categories/preview/", views.category_preview, name="preview"),
    path("settings/categories/<int:pk>/", views.category_edit, name="edit"),
    path("settings/categories/<int:pk>/delete/", views.category_delete, name="delete"),
    path("settings/categories/<int:pk>/move/", views.category_move, name="move"),
    path("settings/app-names/", views.app_names, name="app_names"),
    path("settings/app-names/reset/", views.app_names_reset, name="app_names_reset"),
    path("settings/app-names/<int:pk>/", views.app_name_edit, name="app_name_edit"),
    path("settings/app-names/<int:pk>/delete/", views.app_name_delete, name="app_name_delete"),
]
