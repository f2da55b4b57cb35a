from django.urls import path

from orders.views import tokens, web

app_name = "orders"

urlpatterns = [
    path("", web.home, name="home"),
    path("orders/", web.order_list, name="list"),
    path("orders/<str:company>/<path:number>/", web.order_detail, name="detail"),
    path("account/tokens/", tokens.token_list, name="tokens"),
    path("account/tokens/<int:token_id>/revoke/", tokens.token_revoke, name="token-revoke"),
]
