from django.urls import path

from invites.apis import InviteActivateApi

urlpatterns = [path("profile/invite/", InviteActivateApi.as_view(), name="profile-invite")]
