from django.contrib import admin
from django.urls import include, path

from orders.views import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("orders.urls")),
]
