from django.urls import path, re_path

from watching.views import api

app_name = "watching-api"

# Included before orders.api_urls: its order pattern takes any number, "/watch" included.
urlpatterns = [
    path("watches", api.watch_list, name="list"),
    re_path(r"^orders/(?P<company>[^/]+)/(?P<number>.+)/watch$", api.order_watch, name="order-watch"),
]
