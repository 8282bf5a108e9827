from django.urls import path

from accounts import apis

app_name = "accounts"

urlpatterns = [
    path("", apis.AccountListCreateApi.as_view(), name="account-list"),
    path("<int:pk>/", apis.AccountDetailApi.as_view(), name="account-detail"),
    path("<int:pk>/session/", apis.AccountSessionApi.as_view(), name="account-session"),
]
