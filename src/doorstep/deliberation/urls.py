from django.urls import path

from . import staff_views, views

app_name = "deliberation"
urlpatterns = [
    path("topics/", views.topic_list, name="list"),
    path("topics/new", views.propose, name="propose"),
    path("topics/<int:topic_id>/", views.topic_detail, name="detail"),
    path("topics/<int:topic_id>/support", views.support, name="support"),
    path("topics/<int:topic_id>/follow", views.follow, name="follow"),
    path("topics/<int:topic_id>/comments", views.comment, name="comment"),
    path("topics/<int:topic_id>/comments/<int:comment_id>/report", views.report, name="report"),
    path("topics/<int:topic_id>/rate", views.rate, name="rate"),
    path("topics/<int:topic_id>/photos/<int:photo_id>", views.photo, name="photo"),
    path("staff/topics/", staff_views.topic_list, name="staff_list"),
    path("staff/topics/moderation", staff_views.moderation, name="moderation"),
    path("staff/topics/comments/<int:comment_id>", staff_views.moderate, name="moderate"),
    path("staff/topics/<int:topic_id>", staff_views.topic_manage, name="staff_topic"),
    path("staff/topics/<int:topic_id>/move", staff_views.move, name="move"),
    path("staff/topics/<int:topic_id>/merge", staff_views.merge, name="merge"),
    path("staff/topics/<int:topic_id>/milestones", staff_views.milestone_add, name="milestone_add"),
    path(
        "staff/topics/<int:topic_id>/milestones/<int:milestone_id>",
        staff_views.milestone_update,
        name="milestone_update",
    ),
    path("staff/topics/<int:topic_id>/meetings", staff_views.meeting_add, name="meeting_add"),
    path(
        "staff/topics/<int:topic_id>/meetings/<int:meeting_id>",
        staff_views.meeting_minutes,
        name="meeting_minutes",
    ),
    path(
        "staff/topics/<int:topic_id>/rectification",
        staff_views.rectification,
        name="rectification",
    ),
    path("staff/topics/<int:topic_id>/outcomes", staff_views.outcome_add, name="outcome_add"),
]
