from django.urls import path

from oxytrack.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("enter/<str:code>/", views.enter, name="enter"),
    path("activity/", views.activity, name="activity"),
    path("titles/", views.titles, name="titles"),
    path("trends/", views.trends, name="trends"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("export.xlsx", views.export_xlsx, name="export_xlsx"),
    path("export.json", views.export_json, name="export_json"),
    path("leave/", views.leave, name="leave"),
]
