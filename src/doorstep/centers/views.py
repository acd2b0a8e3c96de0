from django.http import HttpRequest, HttpResponse


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("doorstep")


def center_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("list")


def center_detail(request: HttpRequest, center_id: int) -> HttpResponse:
    return HttpResponse("detail")


def district_outlines(request: HttpRequest) -> HttpResponse:
    return HttpResponse("{}")
