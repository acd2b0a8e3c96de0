from django.urls import path

from . import views

app_name = "meals"
urlpatterns = [
    path("meals/", views.near, name="near"),
    path("centers/<int:center_id>/meals/", views.center_menus, name="center"),
    path("meals/menus/<int:menu_id>/order", views.order, name="order"),
    path("meals/mine/", views.mine, name="mine"),
    path("meals/mine/<int:order_id>/cancel", views.cancel, name="cancel"),
    path("meals/mine/<int:order_id>/pay", views.pay, name="pay"),
    path("meals/payments/notice", views.payment_notice, name="payment_notice"),
    path("meals/address", views.address, name="address"),
    path("meals/dishes/<int:dish_id>/photo", views.dish_photo, name="dish_photo"),
    path("staff/meals/", views.staff_home, name="staff_home"),
    path("staff/meals/report", views.report, name="staff_report"),
    path("staff/meals/menus/<int:menu_id>/sheet", views.sheet, name="staff_sheet"),
    path("staff/meals/menus/<int:menu_id>/counter", views.counter, name="staff_counter"),
    path("staff/meals/menus/<int:menu_id>/rounds", views.rounds, name="staff_rounds"),
    path("staff/meals/menus/<int:menu_id>/desk", views.desk, name="staff_desk"),
    path("staff/meals/menus/<int:menu_id>/dishes", views.menu_edit, name="staff_menu"),
    path("staff/meals/menus/<int:menu_id>/tally", views.tally, name="staff_tally"),
    path("staff/meals/menus/<int:menu_id>/set-off", views.set_off, name="staff_set_off"),
    path(
        "staff/meals/menus/<int:menu_id>/desk/household",
        views.desk_household_new,
        name="staff_desk_household",
    ),
    path("staff/meals/orders/<int:order_id>/serve", views.serve, name="staff_serve"),
    path("staff/meals/orders/<int:order_id>/age", views.confirm_age, name="staff_confirm_age"),
    path("staff/meals/canteens/<int:canteen_id>/week", views.week, name="staff_week"),
]
