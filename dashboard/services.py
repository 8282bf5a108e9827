"""Writes for the dashboard: the `make demo` set-up against the local Marketplace simulator."""
import io
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont

from accounts.models import FacebookAccount
from accounts.services import account_session_store
from postings.models import ErrorLog, MarketplacePost, PostingJob
from postings.services import post_create, post_image_add
from simulator.client import SimulatorClient, facebook_cookies

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-marketplace"
SELLER_EMAIL = "seller@example.com"
EXPIRED_EMAIL = "expired@example.com"


class DemoSetupError(Exception):
    """The demo cannot be set up; the message says why and what to do."""


@dataclass(frozen=True)
class DemoListing:
    title: str
    price: int
    category: str
    condition: str
    description: str
    email: str = SELLER_EMAIL
    photo: bool = True
    #: what posting it does against the simulator: "posted" or the failure's error type
    outcome: str = "posted"
    location: str = "Austin, TX"


DEMO_LISTINGS = [
    DemoListing("Oak dining table", 120, "Furniture", "Used - Good", "Solid oak, seats six. Pick-up only."),
    DemoListing("Road bike, 54 cm", 340, "Sporting Goods", "Used - Like New", "Aluminium frame, 18 gears, new tyres."),
    DemoListing("Brass desk lamp", 25, "Household", "New", "Still in its box."),
    DemoListing("Acoustic guitar", 180, "Musical Instruments", "Used - Fair", "Plays well, a few scratches."),
    # Each of these fails in its own way, to show the error log and the retry.
    DemoListing("Vintage camera", 90, "Electronics", "Used - Good", "35 mm film camera.", photo=False,
                outcome=ErrorLog.ErrorType.VALIDATION_ERROR),
    DemoListing("Replica designer watch", 60, "Clothing & Accessories", "New", "Looks like the real thing.",
                outcome=ErrorLog.ErrorType.POLICY_REJECTED),
    DemoListing("Rocket ship model", 2500, "Spaceships", "Used - Fair", "One careful owner.",
                outcome=ErrorLog.ErrorType.VALIDATION_ERROR),
    DemoListing("Patio chairs, set of 4", 80, "Home & Garden", "Used - Good", "Weatherproof, stackable.",
                email=EXPIRED_EMAIL, outcome=ErrorLog.ErrorType.SESSION_EXPIRED),
]


@dataclass
class DemoSetup:
    operator: object
    accounts: dict[str, FacebookAccount]
    listings: list[MarketplacePost]


def demo_photo(title: str, index: int) -> SimpleUploadedFile:
    """A 800x600 JPEG with the listing's title on a colour of its own."""
    palette = [(44, 95, 168), (186, 84, 56), (58, 132, 92), (140, 82, 160), (196, 150, 40), (70, 70, 90)]
    background = palette[index % len(palette)]
    image = Image.new("RGB", (800, 600), background)
    draw = ImageDraw.Draw(image)
    for band in range(0, 600, 40):  # a soft stripe pattern, so thumbnails do not look like blanks
        shade = tuple(min(255, channel + 12) for channel in background)
        draw.rectangle([0, band, 800, band + 19], fill=shade)
    font = ImageFont.load_default(size=64)
    box = draw.textbbox((0, 0), title, font=font)
    draw.text(((800 - (box[2] - box[0])) / 2, (600 - (box[3] - box[1])) / 2), title, font=font, fill="white")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return SimpleUploadedFile(f"demo-{index}.jpg", buffer.getvalue(), content_type="image/jpeg")


def demo_operator_ensure() -> object:
    """The demo operator, created if missing, with the demo password either way."""
    user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME, defaults={"email": "demo@example.com"})
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def demo_reset(*, operator) -> None:
    """Forget everything the demo operator has: accounts with their sessions, listings, jobs, logs.

    Forced on purpose, unlike account_delete: a demo killed mid-job leaves a post `posting`, and
    the simulator it was posting to is gone anyway (its sessions with it).
    """
    accounts = list(FacebookAccount.objects.filter(owner=operator))
    paths = [account.session_path for account in accounts]
    ErrorLog.objects.filter(owner=operator).delete()
    PostingJob.objects.filter(owner=operator).delete()
    FacebookAccount.objects.filter(owner=operator).delete()  # their listings and photos with them
    transaction.on_commit(lambda: [path.unlink(missing_ok=True) for path in paths])


def demo_setup(*, base_url: str, timeout: float = 15.0) -> DemoSetup:
    """The demo, from scratch: an operator, two accounts with simulator sessions, listings.

    `seller@example.com` holds a valid session; `expired@example.com` one the simulator has
    revoked, so its listing fails as session_expired. Of the listings, four publish and four fail
    (no photo, a replica, a category Marketplace does not offer, the expired session). Running it
    again resets the demo operator's data: the simulator forgets its sessions when it restarts.
    """
    if "facebook.com" in base_url:
        raise DemoSetupError(
            f"MARKETPLACE_BASE_URL is {base_url}: the demo only runs against the local simulator "
            "(make demo sets it)."
        )
    simulator = SimulatorClient(base_url)
    try:
        simulator.wait_until_up(timeout=timeout)
    except TimeoutError as exc:
        raise DemoSetupError(f"{exc}. Start it with `python -m simulator --port <port>` (make demo does).") from None
    sessions = {email: simulator.mint_session(email) for email in (SELLER_EMAIL, EXPIRED_EMAIL)}

    operator = demo_operator_ensure()
    demo_reset(operator=operator)
    accounts = {}
    for email, name in ((SELLER_EMAIL, "Main seller"), (EXPIRED_EMAIL, "Old seller")):
        account = FacebookAccount.objects.create(owner=operator, email=email, name=name)
        account_session_store(account=account, data={"cookies": facebook_cookies(sessions[email]), "origins": []})
        accounts[email] = account
    simulator.revoke_session(sessions[EXPIRED_EMAIL]["xs"])

    listings = []
    # Oldest first, so that the list (newest first) shows them in this order from the bottom up.
    for index, spec in enumerate(DEMO_LISTINGS):
        post = post_create(
            account=accounts[spec.email], title=spec.title, price=spec.price, category=spec.category,
            condition=spec.condition, description=spec.description, location=spec.location,
        )
        if spec.photo:
            post_image_add(post=post, upload=demo_photo(spec.title, index))
        listings.append(post)
    return DemoSetup(operator=operator, accounts=accounts, listings=listings)
