from django.urls import path

from orders.views import staff

app_name = "staff"

urlpatterns = [
    path("orders/", staff.order_lookup, name="order-lookup"),
    # The order number comes last: F&O order numbers may contain "/".
    path("orders/<str:company>/<str:account>/<path:number>/", staff.order_view, name="order"),
    path("customer-view/<str:company>/<str:account>/<path:number>/", staff.order_preview, name="order-preview"),
    path("purge/<str:company>/<str:account>/<path:number>/", staff.order_purge, name="order-purge"),
    path("ref/", staff.reference_lookup, name="reference-lookup"),
    path("ref/<str:code>", staff.reference_replay, name="reference"),
    path("health/", staff.health, name="health"),
    path("health/test/", staff.health_test, name="health-test"),
]
