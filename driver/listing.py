"""What the driver is given: plain data, no models. The apps build these from their rows."""
from dataclasses import dataclass, field
from decimal import Decimal

DELIVERY_OPTIONS = ("Public meetup", "Door pickup", "Door drop-off")


@dataclass(frozen=True)
class Listing:
    """One listing as Marketplace's form asks for it."""

    title: str
    price: Decimal
    category: str
    condition: str
    location: str
    description: str = ""
    delivery: tuple[str, ...] = ("Public meetup",)
    hide_from_friends: bool = False
    tags: tuple[str, ...] = ()
    sku: str = ""


@dataclass(frozen=True)
class Target:
    """Where and how the browser posts: Marketplace's base URL, the one timeout, the names to look for."""

    base_url: str
    timeout_ms: float
    selectors: dict = field(repr=False)
