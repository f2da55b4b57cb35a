from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from orders.views import health
from portal import openapi

auth_patterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path(settings.ADMIN_PATH, admin.site.urls),
    path("accounts/", include(auth_patterns)),
    path("accounts/microsoft/", include("entra.urls")),
    path("i18n/", include("languages.urls")),
    path("api/v1/openapi.json", openapi.openapi, name="openapi"),  # every app's part of the API
    path("api/v1/", include("watching.api_urls")),  # before orders': "<number>/watch" is not an order
    path("api/v1/", include("orders.api_urls")),
    path("api/v1/", include("webhooks.api_urls")),
    path("staff/", include("orders.staff_urls")),
    path("track/", include("orders.guest_urls")),  # guest order tracking: a 404 unless GUEST_TRACKING
    path("account/webhooks/", include("webhooks.urls")),
    path("watches/", include("watching.urls")),
    path("", include("orders.urls")),
]

handler404 = "orders.views.errors.not_found"
handler500 = "orders.views.errors.server_error"
