from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from doorstep.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/", include("doorstep.activities.staff_urls")),
    path("", include("doorstep.core.urls")),
    path("", include("doorstep.centers.urls")),
    path("", include("doorstep.accounts.urls")),
    path("", include("doorstep.activities.urls")),
    path("", include("doorstep.visits.urls")),
    path("", include("doorstep.meals.urls")),
    path("", include("doorstep.rooms.urls")),
    path("", include("doorstep.figures.urls")),
    path("", include("doorstep.inbox.urls")),
    path("", include("doorstep.deliberation.urls")),
    path("", include("doorstep.legislation.urls")),
    path("", include("doorstep.cases.urls")),
    path("", include("doorstep.volunteers.urls")),
    path("", include("doorstep.gym.urls")),
    path("", include("doorstep.city.urls")),
    path("", include("doorstep.screen.urls")),
]

handler400 = "doorstep.core.views.bad_request"
handler404 = "doorstep.core.views.page_not_found"
handler500 = "doorstep.core.views.server_error"
