from django.urls import path

from oxytrack.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("team/", views.team, name="team"),
    path("employees/<uuid:public_id>/", views.employee_detail, name="employee"),
    path("employees/<uuid:public_id>/activity/", views.employee_activity, name="employee_activity"),
    path("employees/<uuid:public_id>/titles/", views.employee_titles, name="employee_titles"),
    path("employees/<uuid:public_id>/export.csv", views.employee_export, name="employee_export"),
]
