from django.urls import path

from bench.ceiling.views import order

urlpatterns = [path("order", order)]
