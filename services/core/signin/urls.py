from django.urls import path

from signin.apis import AuthTokenApi

urlpatterns = [
    path("auth/token/", AuthTokenApi.as_view(), name="auth-token"),
]
