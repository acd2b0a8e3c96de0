from django.urls import path

from . import views

app_name = "gym"
urlpatterns = [
    path("gym/mine/", views.mine, name="mine"),
    path("staff/gym/", views.index, name="index"),
    path("staff/gym/<int:center_id>/desk", views.desk, name="desk"),
    path("staff/gym/<int:center_id>/board", views.board, name="board"),
    path("staff/gym/<int:center_id>/state.json", views.board_state, name="state"),
    path("staff/gym/<int:center_id>/events", views.board_events, name="events"),
    path(
        "staff/gym/<int:center_id>/alerts/<int:alert_id>/acknowledge",
        views.acknowledge,
        name="acknowledge",
    ),
]
