"""The analytics pages: each view module adds its routes here."""

from django.urls import URLPattern

app_name = "analytics"
urlpatterns: list[URLPattern] = []
