from django.urls import path

from . import views

urlpatterns = [
    path("settings/text-size", views.set_text_size, name="set_text_size"),
    path("about/data", views.data_sources, name="data_sources"),
]
