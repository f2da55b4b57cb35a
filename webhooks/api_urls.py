from django.urls import path

from webhooks.views import api

app_name = "webhooks-api"

urlpatterns = [
    path("webhooks", api.endpoints, name="list"),
    path("webhooks/<uuid:endpoint_id>", api.endpoint_detail, name="detail"),
    path("webhooks/<uuid:endpoint_id>/deliveries", api.deliveries, name="deliveries"),
]
