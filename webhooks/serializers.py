import ipaddress
import json
import re
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.serializers import RejectUnknownFieldsMixin
from webhooks.models import Event, Webhook, WebhookDelivery

EVENTS = [event.value for event in Event]
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
DEFAULT_PORTS = {"http": 80, "https": 443}


class EventsField(serializers.ListField):
    """A non-empty list of event names; an unknown one is named in the 400."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.ChoiceField(choices=Event.choices), allow_empty=False, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list):
            unknown = [item for item in data if not isinstance(item, str) or item not in EVENTS]
            if unknown:
                names = ", ".join(json.dumps(item) for item in unknown)
                raise serializers.ValidationError(
                    f"Unknown event{'s' if len(unknown) > 1 else ''}: {names}. Choose from {', '.join(EVENTS)}."
                )
        return list(dict.fromkeys(super().to_internal_value(data)))  # each once, in the order given


_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def _valid_host(host: str) -> bool:
    """An IP address, or a DNS name (single-label ones too: `receiver` on a private network)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        name = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return 0 < len(name) <= 253 and all(_LABEL.match(label) for label in name.split("."))


def _this_machines_addresses() -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """What this machine answers on besides loopback: its host name's addresses, and the one it
    goes out from (a UDP socket's `connect` sends nothing)."""
    found = set()
    for name in {socket.gethostname(), socket.getfqdn()}:
        try:
            found |= {ipaddress.ip_address(info[4][0].split("%")[0]) for info in socket.getaddrinfo(name, None)}
        except (OSError, ValueError):
            pass  # no such name here: nothing to add
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.connect((probe, 9))
                found.add(ipaddress.ip_address(sock.getsockname()[0].split("%")[0]))
        except (OSError, ValueError):
            pass  # no route of that family
    return found


def _is_this_machine(host: str) -> bool:
    """Whether `host` names this machine: a local name, one of ALLOWED_HOSTS, or a name or address
    that is loopback, unspecified (0.0.0.0) or one of this machine's own."""
    host = host.lower().rstrip(".")
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    if host in {socket.gethostname().lower(), socket.getfqdn().lower()}:
        return True
    if validate_host(host, [allowed for allowed in settings.ALLOWED_HOSTS if allowed != "*"]):
        return True
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in socket.getaddrinfo(host, None)}
        except (OSError, ValueError):
            return False  # it does not resolve here: not this machine (its deliveries will fail and say so)
    own = None
    for address in addresses:
        address = getattr(address, "ipv4_mapped", None) or address
        if address.is_loopback or address.is_unspecified:
            return True
        own = _this_machines_addresses() if own is None else own
        if address in own:
            return True
    return False


@extend_schema_field(OpenApiTypes.URI)
class WebhookUrlField(serializers.CharField):
    """An http(s) URL with a host, that is not this server itself."""

    def __init__(self, **kwargs):
        super().__init__(max_length=2000, trim_whitespace=True, **kwargs)

    def to_internal_value(self, data):
        url = super().to_internal_value(data)
        parts = urlsplit(url)
        if parts.scheme.lower() not in DEFAULT_PORTS:
            scheme = f"{parts.scheme}://" if parts.scheme else "no scheme"
            raise serializers.ValidationError(f"Must be an http:// or https:// URL, not {scheme}.")
        if not parts.hostname:
            raise serializers.ValidationError("Must name a host: http(s)://host[:port]/path.")
        if parts.username is not None or parts.password is not None:
            raise serializers.ValidationError("Must not hold credentials (user:password@): the secret signs each delivery.")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme.lower()]
        except ValueError:
            raise serializers.ValidationError("The port must be a number from 1 to 65535.") from None
        if any(char.isspace() for char in url) or not _valid_host(parts.hostname):
            raise serializers.ValidationError("Enter a valid URL.")
        request = self.context.get("request")
        if request is not None and self._is_this_server(parts.hostname, port, request):
            raise serializers.ValidationError(
                "Must not point at this server itself: a webhook tells another system what happened here."
            )
        return url

    @staticmethod
    def _is_this_server(host: str, port: int, request) -> bool:
        """The host:port the request came to, or this machine on the port it came in on. Loopback on
        another port is someone else (a receiver beside the server)."""
        served_host, served_port = split_domain_port(request.get_host())
        served_port = int(served_port) if served_port else DEFAULT_PORTS.get(request.scheme, 80)
        if (host.lower().strip("[]"), port) == (served_host.lower().strip("[]"), served_port):
            return True
        try:
            request_port = int(request.get_port())
        except (TypeError, ValueError):
            return False
        return port == request_port and _is_this_machine(host.strip("[]"))


class WebhookSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """A URL told of the operator's events by signed JSON POSTs. The secret is never shown."""

    url = WebhookUrlField(
        help_text="Where each delivery is POSTed: http:// or https://, not this server itself (its own host and "
        "port, or this machine on the port the API is served on). Redirects are not followed."
    )
    events = EventsField(
        help_text="What to be told of: `job.finished` (the job-status body), `post.failed` (the error log), "
        "`account.needs_attention` (the account's health-check entry, once it turns warning or error)."
    )
    secret = serializers.CharField(
        write_only=True, required=False, min_length=16, max_length=200,
        help_text="Signs every delivery: `X-Signature-256: sha256=<HMAC-SHA256 of the body under it, hex>`. Write "
        "only: never shown. Left out on create: the server generates one and shows it once, in the create answer.",
    )
    active = serializers.BooleanField(required=False, default=True, help_text="false: nothing is sent (deliveries "
                                      "already queued wait, and go once it is active again).")
    deliveries_url = serializers.SerializerMethodField(help_text="Its deliveries, newest first.")

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "secret", "active", "deliveries_url", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    @extend_schema_field(serializers.CharField)
    def get_deliveries_url(self, webhook: Webhook) -> str:
        return reverse("webhooks:webhook-deliveries", kwargs={"pk": webhook.pk})


class WebhookCreatedSerializer(WebhookSerializer):
    """The create answer: the webhook, and its secret if the server generated it."""

    secret = serializers.SerializerMethodField(
        help_text="The secret the server generated, shown this once and never again: keep it. null when you gave one.",
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_secret(self, webhook: Webhook) -> str | None:
        return self.context.get("generated_secret")  # never the stored one


class WebhookDeliverySerializer(serializers.ModelSerializer):
    status_code = serializers.IntegerField(allow_null=True, read_only=True,
                                           help_text="The receiver's HTTP status at the last attempt; null: no answer.")

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "event_id", "state", "status_code", "attempts", "last_error", "created_at",
                  "delivered_at", "next_attempt_at"]
        read_only_fields = fields
        extra_kwargs = {
            "event_id": {"help_text": "The body's `id` and the `X-Webhook-Event-Id` header: the same at every attempt."},
            "state": {"help_text": "pending (to be sent, again after a failed attempt), delivered (a 2xx answer), "
                      "failed (given up after WEBHOOK_MAX_ATTEMPTS)."},
            "last_error": {"help_text": "Why the last attempt failed; empty once delivered."},
            "next_attempt_at": {"help_text": "When it is tried next; null once delivered or given up."},
        }
