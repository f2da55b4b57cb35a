from django.urls import path

from orders.views import guest

app_name = "guest"

urlpatterns = [
    path("", guest.track, name="track"),
    path("order/", guest.tracked_order, name="order"),
]
