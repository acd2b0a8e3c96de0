from django.urls import path

from . import views

app_name = "screen"
urlpatterns = [
    path("screen/", views.page, name="city"),
    path("screen/data.json", views.data_json, name="city_data"),
    path("screen/events", views.events, name="city_events"),
    path("screen/<str:code>/", views.page, name="district"),
    path("screen/<str:code>/data.json", views.data_json, name="district_data"),
    path("screen/<str:code>/events", views.events, name="district_events"),
]
