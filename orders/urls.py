from django.urls import path

from orders.views import web

app_name = "orders"

urlpatterns = [
    path("", web.home, name="home"),
    path("orders/", web.order_list, name="list"),
    path("orders/<str:company>/<str:number>/", web.order_detail, name="detail"),
]
