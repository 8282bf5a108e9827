"""Operator authentication: JWT token pair, refresh, and who am I."""
from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from accounts.authentication import set_auth_cookie


class _SetsAccessCookie:
    """A successful answer also sets the access token as an httpOnly, SameSite=Lax cookie."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200 and "access" in response.data:
            set_auth_cookie(response, response.data["access"])
        return response


class TokenObtainApi(_SetsAccessCookie, jwt_views.TokenObtainPairView):
    """`{"username", "password"}` -> `{"access", "refresh"}`."""


class TokenRefreshApi(_SetsAccessCookie, jwt_views.TokenRefreshView):
    """`{"refresh"}` -> `{"access"}`."""


class OperatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email"]


class MeApi(APIView):
    @extend_schema(responses=OperatorSerializer, summary="The authenticated operator")
    def get(self, request):
        return Response(OperatorSerializer(request.user).data)
