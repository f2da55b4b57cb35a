from django.urls import path

from webhooks.views import web

app_name = "webhooks"

urlpatterns = [
    path("", web.endpoint_list, name="list"),
    path("<uuid:endpoint_id>/delete/", web.endpoint_remove, name="delete"),
]
