"""Root URLconf."""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView


class FaviconRedirect(RedirectView):
    """To the dashboard's icon, its static URL resolved per request (hashed names exist only
    after collectstatic)."""

    permanent = True

    def get_redirect_url(self, *args: object, **kwargs: object) -> str:
        return static("dashboard/favicon.svg")


urlpatterns = [
    # Only active staff accounts may log in (the admin's own form enforces it).
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=AdminAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on their own (before or without reading the page's
    # <link rel="icon">): send them to the real one rather than a 404 in their console.
    path("favicon.ico", FaviconRedirect.as_view()),
    path("", include("dashboard.urls")),
]
