from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import auth_apis
from config.views import HealthApi

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/health/", HealthApi.as_view(), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/auth/token/", auth_apis.TokenObtainApi.as_view(), name="token"),
    path("api/auth/token/refresh/", auth_apis.TokenRefreshApi.as_view(), name="token-refresh"),
    path("api/auth/me/", auth_apis.MeApi.as_view(), name="me"),
    path("api/accounts/", include("accounts.urls")),
    path("api/posts/", include("postings.urls")),
    path("api/webhooks/", include("webhooks.urls")),
    path("", include("dashboard.urls")),
]

handler400 = "config.exceptions.bad_request"
handler403 = "config.exceptions.permission_denied"
handler404 = "config.exceptions.not_found"
handler500 = "config.exceptions.server_error"
