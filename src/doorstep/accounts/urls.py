from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("account/", views.account_home, name="home"),
    path("terms", views.terms, name="terms"),
    path("privacy", views.privacy, name="privacy"),
    path("account/sign-in", views.sign_in, name="sign_in"),
    path("account/sign-out", views.sign_out, name="sign_out"),
    path("account/staff-sign-in", views.StaffSignInView.as_view(), name="staff_sign_in"),
    path("account/profile", views.update_profile, name="profile"),
    path("account/people", views.add_person, name="add_person"),
    path("account/people/<int:person_id>", views.update_person, name="update_person"),
    path("account/people/<int:person_id>/remove", views.remove_person, name="remove_person"),
    path("dev/codes", views.dev_codes_page, name="dev_codes"),
    path("staff/audit/", views.staff_audit, name="staff_audit"),
]
