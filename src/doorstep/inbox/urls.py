from django.urls import path

from . import views

app_name = "inbox"
urlpatterns = [
    path("inbox/", views.inbox, name="list"),
    path("inbox/<int:notice_id>/open", views.open_notice, name="open"),
    path("inbox/read", views.mark_all_read, name="read_all"),
    path("inbox/preferences", views.preferences, name="preferences"),
]
