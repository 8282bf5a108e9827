from django.urls import path

from webhooks import apis

app_name = "webhooks"

urlpatterns = [
    path("", apis.WebhookListCreateApi.as_view(), name="webhook-list"),
    path("<int:pk>/", apis.WebhookDetailApi.as_view(), name="webhook-detail"),
    path("<int:pk>/deliveries/", apis.WebhookDeliveryListApi.as_view(), name="webhook-deliveries"),
]
