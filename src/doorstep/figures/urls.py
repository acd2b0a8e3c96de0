from django.urls import path

from . import views

app_name = "figures"
urlpatterns = [
    path("staff/figures/", views.home, name="home"),
    path("staff/figures/center/<int:center_id>/", views.center, name="center"),
    path(
        "staff/figures/center/<int:center_id>/export.<str:fmt>",
        views.center_export,
        name="center_export",
    ),
    path("staff/figures/region/<str:code>/", views.region, name="region"),
    path(
        "staff/figures/region/<str:code>/export.<str:fmt>",
        views.region_export,
        name="region_export",
    ),
]
