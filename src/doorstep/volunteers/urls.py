from django.urls import path

from . import heritage_views, staff_views, views

app_name = "volunteers"
urlpatterns = [
    path("volunteer/", views.home, name="home"),
    path("volunteer/opportunities/", views.opportunities, name="opportunities"),
    path("volunteer/opportunities/<int:opportunity_id>/", views.opportunity, name="opportunity"),
    path("volunteer/shifts/<int:signup_id>", views.my_shift, name="my_shift"),
    path("volunteer/swaps/<int:swap_id>", views.take, name="take"),
    path("volunteer/c/<int:center_id>/<str:code>", views.scan, name="scan"),
    path("volunteer/certificate/<int:year>.pdf", views.certificate, name="certificate"),
    path("volunteer/verify/", views.verify, name="verify"),
    path("heritage/", heritage_views.heritage_map, name="heritage"),
    path("heritage/sites/<int:site_id>/", heritage_views.site, name="site"),
    path("heritage/lessons/<int:lesson_id>/", heritage_views.lesson, name="lesson"),
    path("staff/heritage/lessons/new", heritage_views.lesson_form, name="lesson_form"),
    path("staff/volunteers/", staff_views.home, name="staff_home"),
    path(
        "staff/volunteers/opportunities/<int:opportunity_id>/",
        staff_views.opportunity,
        name="staff_opportunity",
    ),
    path("staff/volunteers/poster/<int:center_id>", staff_views.poster, name="poster"),
    path("staff/volunteers/hours/", staff_views.hours, name="staff_hours"),
    path("staff/volunteers/export.csv", staff_views.export, name="export"),
    path("staff/volunteers/figures/", staff_views.figures, name="staff_figures"),
]
