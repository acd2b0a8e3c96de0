from django.urls import path

from . import views

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
    path("rooms/feeds/<str:token>.ics", views.freebusy, name="freebusy"),
    path("staff/rooms/", views.staff_home, name="staff_home"),
    path("staff/rooms/spaces/new", views.staff_space, name="staff_space_new"),
    path("staff/rooms/spaces/<int:space_id>/", views.staff_space, name="staff_space"),
    path("staff/rooms/spaces/<int:space_id>/poster", views.poster, name="poster"),
    path("staff/rooms/queue/", views.queue, name="staff_queue"),
    path("staff/rooms/board/<int:center_id>/", views.board, name="staff_board"),
    path("staff/rooms/organizations/", views.staff_organizations, name="staff_organizations"),
    path("staff/rooms/figures/", views.staff_figures, name="staff_figures"),
]
