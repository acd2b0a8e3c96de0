from django.urls import path

from . import views

app_name = "legislation"
urlpatterns = [
    path("legislation/", views.index, name="index"),
    path("legislation/funnel/", views.funnel, name="funnel"),
    path("legislation/drafts/<int:draft_id>/", views.draft_detail, name="draft"),
    path(
        "legislation/drafts/<int:draft_id>/articles/<int:article_id>/opinion",
        views.comment,
        name="comment",
    ),
    path("me/opinions/", views.mine, name="mine"),
    path("staff/legislation/", views.staff_index, name="staff_index"),
    path("staff/legislation/new", views.staff_new, name="staff_new"),
    path("staff/legislation/drafts/<int:draft_id>/", views.staff_draft, name="staff_draft"),
    path("staff/legislation/drafts/<int:draft_id>/status", views.staff_status, name="staff_status"),
    path(
        "staff/legislation/drafts/<int:draft_id>/articles/<int:article_id>",
        views.staff_article,
        name="staff_article",
    ),
    path(
        "staff/legislation/drafts/<int:draft_id>/compile",
        views.staff_compile,
        name="staff_compile",
    ),
    path(
        "staff/legislation/drafts/<int:draft_id>/report.docx",
        views.staff_report_docx,
        name="staff_docx",
    ),
    path(
        "staff/legislation/drafts/<int:draft_id>/report.xlsx",
        views.staff_report_xlsx,
        name="staff_xlsx",
    ),
]
