from django.urls import path

from web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_phone, name="login"),
    path("login/code/", views.login_code, name="login-code"),
    path("login/resend/", views.login_resend, name="login-resend"),
    path("profile/", views.profile, name="profile"),
    path("profile/referrals.csv", views.referrals_csv, name="referrals-csv"),
    path("logout/", views.logout_view, name="logout"),
    path("r/<str:invite_code>/", views.invite_landing, name="invite"),
]
