from django.urls import path, re_path

from . import handler_views, open311, views

app_name = "cases"
urlpatterns = [
    path("centers/<int:center_id>/ask/", views.new, name="new"),
    path("requests/mine/", views.mine, name="mine"),
    path("requests/<int:request_id>/", views.detail, name="detail"),
    path("requests/files/<int:attachment_id>", views.attachment, name="attachment"),
    path("requests/handle/", handler_views.queue, name="queue"),
    path("requests/handle/<int:request_id>/", handler_views.handle, name="handle"),
    path("requests/figures/", handler_views.figures, name="figures"),
    path("staff/requests/types/", handler_views.types, name="types"),
    re_path(r"^open311/discovery\.(?P<fmt>[a-z]+)$", open311.discovery, name="o311_discovery"),
    re_path(
        r"^open311/v2/services\.(?P<fmt>[a-z]+)$", open311.services_endpoint, name="o311_services"
    ),
    re_path(
        r"^open311/v2/services/(?P<code>[\w-]+)\.(?P<fmt>[a-z]+)$",
        open311.service_endpoint,
        name="o311_service",
    ),
    re_path(
        r"^open311/v2/requests\.(?P<fmt>[a-z]+)$", open311.requests_endpoint, name="o311_requests"
    ),
    re_path(
        r"^open311/v2/requests/(?P<request_id>\w+)\.(?P<fmt>[a-z]+)$",
        open311.request_endpoint,
        name="o311_request",
    ),
]
