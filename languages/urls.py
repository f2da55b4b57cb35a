from django.urls import path

from . import views

urlpatterns = [
    path("setlang/", views.language_switch, name="set_language"),
]
