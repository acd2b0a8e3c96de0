from django.urls import path

from . import views

app_name = "city"
urlpatterns = [
    path("staff/city/coverage", views.page, name="coverage"),
    path("staff/city/coverage/gaps.csv", views.gaps_csv, name="gaps_csv"),
    path("staff/city/coverage/gaps.xlsx", views.gaps_xlsx, name="gaps_xlsx"),
    path("staff/city/coverage/gaps.geojson", views.gaps_geojson, name="gaps_geojson"),
]
