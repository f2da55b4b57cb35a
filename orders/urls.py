from django.urls import path

from orders.views import web

app_name = "orders"

urlpatterns = [
    path("", web.home, name="home"),
]
