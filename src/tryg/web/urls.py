"""URLs of the pages. Analysts' pages live under /analyse/, the public ones at the root."""

from django.contrib.auth import views as auth_views
from django.urls import path

from tryg.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
