from django.urls import path

from users.apis import auth, profile

urlpatterns = [
    path("auth/code/", auth.AuthCodeApi.as_view(), name="auth-code"),
    path("auth/token/refresh/", auth.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout/", auth.LogoutApi.as_view(), name="auth-logout"),
    path("profile/", profile.ProfileApi.as_view(), name="profile"),
    path("profile/stats/", profile.StatsApi.as_view(), name="profile-stats"),
    path("profile/referrals/", profile.ReferralsApi.as_view(), name="profile-referrals"),
    path("profile/referrals.csv", profile.ReferralsCsvApi.as_view(), name="profile-referrals-csv"),
]
