from django.urls import path

from . import views

app_name = "centers"
urlpatterns = [
    path("", views.home, name="home"),
    path("centers/", views.center_list, name="list"),
    path("centers/<int:center_id>/", views.center_detail, name="detail"),
    path("regions/outlines.geojson", views.district_outlines, name="outlines"),
]
