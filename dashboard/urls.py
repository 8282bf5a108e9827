from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="dashboard/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.listings, name="listings"),
    path("listings/", views.listings, name="listings-all"),
    path("listings/new/", views.listing_new, name="listing-new"),
    path("listings/<int:pk>/edit/", views.listing_edit, name="listing-edit"),
    path("accounts/", views.accounts, name="accounts"),
    path("jobs/", views.jobs, name="jobs"),
    path("jobs/<uuid:job_id>/", views.job_detail, name="job"),
    path("errors/", views.errors, name="errors"),
]
