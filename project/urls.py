"""Root URLconf."""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    # Only active staff accounts may log in (the admin's own form enforces it).
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=AdminAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("dashboard.urls")),
]
