from django.urls import path

from oxytrack.reports import views

app_name = "reports"
urlpatterns = [
    path("account/weekly-report/", views.preferences, name="preferences"),
]
