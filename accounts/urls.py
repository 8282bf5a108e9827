from django.urls import path

from accounts import apis

app_name = "accounts"

urlpatterns = [
    path("", apis.AccountListCreateApi.as_view(), name="account-list"),
    path("health-check/", apis.AccountHealthApi.as_view(), name="health-check"),
    path("<int:pk>/", apis.AccountDetailApi.as_view(), name="account-detail"),
    path("<int:pk>/resume/", apis.AccountResumeApi.as_view(), name="account-resume"),
    path("<int:pk>/session/", apis.AccountSessionApi.as_view(), name="account-session"),
    path("<int:pk>/validate-session/", apis.validate_session, name="validate-session"),
]
