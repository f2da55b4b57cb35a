from django.urls import path

from watching.views import unsubscribe, web

app_name = "watching"

urlpatterns = [
    path("", web.watch_list, name="list"),
    path("change/", web.watch_change, name="change"),
    path("stop/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
]
