from django.urls import path, re_path

from orders.views import api

app_name = "api"

urlpatterns = [
    path("me", api.me, name="me"),
    path("orders", api.order_list, name="order-list"),
    re_path(r"^orders/(?P<company>[^/]+)/(?P<number>.+)$", api.order_detail, name="order-detail"),
]
