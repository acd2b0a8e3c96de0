"""Back office: put a center at its door (location, precision, source), for the staff in scope."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from doorstep.accounts.decorators import staff_required
from doorstep.accounts.models import User
from doorstep.accounts.scopes import managed_centers
from doorstep.centers.services import CenterError, LocationInput, correct_location
from doorstep.centers.vocab import Datum, Precision


@staff_required
@require_http_methods(["GET", "POST"])
def center_location(request: HttpRequest, center_id: int) -> HttpResponse:
    assert isinstance(request.user, User)
    center = (
        managed_centers(request.user)
        .select_related("district", "subdistrict")
        .filter(pk=center_id)
        .first()
    )
    if center is None:
        raise Http404
    errors: list[str] = []
    form = {
        "lat": "",
        "lng": "",
        "datum": Datum.GCJ02,
        "precision": Precision.EXACT,
        "source": "",
    }
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip()[:200] for k in form}
        try:
            # The service reads the numbers (and refuses what is not one): no second check here.
            correct_location(
                center_id=center.pk,
                actor=request.user,
                data=LocationInput(
                    lat=form["lat"],
                    lng=form["lng"],
                    datum=form["datum"],
                    precision=form["precision"],
                    source=form["source"],
                ),
            )
        except CenterError as exc:
            errors.append(str(exc.message))
        else:
            messages.success(request, _("The location is saved."))
            return redirect("staff:center_location", center_id=center.pk)
    return render(
        request,
        "activities/staff_location.html",
        {
            "center": center,
            "form": form,
            "page_errors": errors,
            "datums": Datum.choices,
            "precisions": [(p, lbl) for p, lbl in Precision.choices if p in ("exact", "street")],
            "map_point": {
                "lat": center.lat,
                "lng": center.lng,
                "name": center.display_name,
                "precision": center.location_precision,
                "district": center.district_id,
            },
        },
        status=400 if errors else 200,
    )
