from django.urls import path

from invites.apis import InviteActivateApi, InviteQrApi

urlpatterns = [
    path("profile/invite/", InviteActivateApi.as_view(), name="profile-invite"),
    path("profile/invite-qr.svg", InviteQrApi.as_view(), name="profile-invite-qr"),
]
