from django.urls import path

from . import views

app_name = "entra"

urlpatterns = [
    path("", views.signin_start, name="signin"),
    path("callback/", views.callback, name="callback"),
    path("invitation/", views.invitation, name="invitation"),
    path("identities/", views.identities, name="identities"),
    path("identities/<int:pk>/remove/", views.identity_remove, name="identity-remove"),
]
