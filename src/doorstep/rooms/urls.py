from django.urls import path

from . import staff_views, views

app_name = "rooms"
urlpatterns = [
    path("rooms/", views.find, name="find"),
    path("rooms/spaces/<int:space_id>/", views.space, name="space"),
    path("rooms/spaces/<int:space_id>/photo", views.space_photo, name="photo"),
    path("rooms/mine/", views.mine, name="mine"),
    path("rooms/mine/<int:booking_id>/cancel", views.cancel, name="cancel"),
    path("rooms/mine/<int:booking_id>/check-in", views.check_in, name="check_in"),
    path("rooms/mine/<int:booking_id>.ics", views.booking_ics, name="ics"),
    path("rooms/door/<str:code>/", views.door, name="door"),
    path("rooms/organizations/", views.my_organizations, name="organizations"),
    path("rooms/feeds/<str:token>.ics", staff_views.freebusy, name="freebusy"),
    path("staff/rooms/", staff_views.staff_home, name="staff_home"),
    path("staff/rooms/spaces/new", staff_views.staff_space, name="staff_space_new"),
    path("staff/rooms/spaces/<int:space_id>/", staff_views.staff_space, name="staff_space"),
    path("staff/rooms/spaces/<int:space_id>/poster", staff_views.poster, name="poster"),
    path("staff/rooms/queue/", staff_views.queue, name="staff_queue"),
    path("staff/rooms/board/<int:center_id>/", staff_views.board, name="staff_board"),
    path("staff/rooms/organizations/", staff_views.staff_organizations, name="staff_organizations"),
    path("staff/rooms/figures/", staff_views.staff_figures, name="staff_figures"),
]
