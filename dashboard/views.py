from django.http import HttpRequest, HttpResponse


def apps(request: HttpRequest) -> HttpResponse:
    return HttpResponse("placeholder")
