"""Project-level endpoints."""
import logging

from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

logger = logging.getLogger(__name__)


HEALTH = inline_serializer("Health", {"status": serializers.CharField(), "database": serializers.CharField()})


class HealthApi(APIView):
    """Public liveness: the process answers and the database does too."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Liveness with a database check",
        responses={200: HEALTH, 503: HEALTH},
    )
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            logger.exception("health check: the database does not answer")
            return Response({"status": "error", "database": "unavailable"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"status": "ok", "database": "ok"})
