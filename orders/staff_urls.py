from django.urls import path

from orders.views import staff

app_name = "staff"

urlpatterns = [
    path("orders/", staff.order_lookup, name="order-lookup"),
    path("orders/<str:company>/<str:account>/<str:number>/", staff.order_view, name="order"),
    path("orders/<str:company>/<str:account>/<str:number>/customer-view/", staff.order_preview, name="order-preview"),
    path("orders/<str:company>/<str:account>/<str:number>/purge/", staff.order_purge, name="order-purge"),
    path("ref/", staff.reference_lookup, name="reference-lookup"),
    path("ref/<str:code>", staff.reference_replay, name="reference"),
    path("health/", staff.health, name="health"),
    path("health/test/", staff.health_test, name="health-test"),
]
