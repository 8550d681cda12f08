"""The bodies of the CPS API (pydantic v1, as Rasa 3.6 pins it): requests, then responses.

Request validation errors become 422 problems.
"""
from __future__ import annotations

from datetime import date
from typing import List, Literal, Optional

from pydantic import BaseModel, Field, constr, validator

LANGUAGES = ("cs", "hu", "da", "lt", "fi", "en")
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class ProductUpdate(BaseModel):
    serial_number: Optional[constr(strip_whitespace=True, min_length=1, max_length=64)] = None
    purchase_date: Optional[date] = None
    country_of_purchase: Optional[constr(strip_whitespace=True, min_length=1, max_length=80)] = None
    dealer: Optional[constr(strip_whitespace=True, min_length=1, max_length=120)] = None

    class Config:
        extra = "forbid"

    @validator("purchase_date")
    def not_in_future(cls, value: Optional[date]) -> Optional[date]:
        if value and value > date.today():
            raise ValueError("the purchase date cannot be in the future")
        return value


class MembershipOrder(BaseModel):
    level: Literal["silver", "gold", "platinum", "corporate"]
    payment_method: Literal["card", "bank_transfer"]

    class Config:
        extra = "forbid"


class ExcerptLine(BaseModel):
    sender: Literal["user", "bot"]
    text: constr(max_length=4000)


class TicketRequest(BaseModel):
    contact_email: constr(strip_whitespace=True, regex=EMAIL, max_length=200)
    language: Literal[LANGUAGES]  # type: ignore[valid-type]
    summary: constr(strip_whitespace=True, min_length=1, max_length=2000)
    product: Optional[constr(max_length=200)] = None
    serial_number: Optional[constr(max_length=64)] = None
    conversation_excerpt: List[ExcerptLine] = Field(default_factory=list, max_items=50)

    class Config:
        extra = "forbid"


# --------------------------------------------------------------------------- responses
#
# What the server answers, as the contract (cps_api/openapi.yaml) describes it and
# actions/cps_client.py reads it. Values marked "demo data" are the reference server's
# own choices (prices, numbering, due dates), not promises of the real CPS API.

DEMO = "Demo data of the reference server: "
DETAIL_FIELD = Literal["serial_number", "purchase_date", "country_of_purchase", "dealer"]
LEVEL_CODE = Literal["silver", "gold", "platinum", "corporate"]
PAYMENT_METHOD = Literal["card", "bank_transfer"]


class Problem(BaseModel):
    """An error (RFC 9457), answered as application/problem+json."""

    type: str = Field(..., description="https://cps-api.example/problems/<kind>, e.g. .../unauthorized")
    title: str
    status: int
    detail: str = ""


class Health(BaseModel):
    status: Literal["ok"]


class Account(BaseModel):
    business_name: str
    contact_email: str
    language: Literal[LANGUAGES]  # type: ignore[valid-type]
    old_cps_email_linked: bool = Field(..., description="the old CPS account's e-mail was given at registration")
    migration: Literal["not_available", "available", "done"]


class Product(BaseModel):
    id: int
    name: str
    points: int
    serial_number: Optional[str]
    purchase_date: Optional[date]
    country_of_purchase: Optional[str]
    dealer: Optional[str]
    complete: bool = Field(..., description="every detail given: the points are allocated (the green tick)")
    missing: List[DETAIL_FIELD]
    points_status: Literal["allocated", "pending"]


class Products(BaseModel):
    products: List[Product]


class Migration(BaseModel):
    status: Literal["migrated"]
    products_migrated: int
    points_migrated: int
    points_total: int


class PendingProduct(BaseModel):
    id: int
    name: str
    points: int
    missing: List[DETAIL_FIELD]


class Points(BaseModel):
    allocated: int
    pending: int
    total: int
    pending_products: List[PendingProduct]


class Price(BaseModel):
    amount: int = Field(..., description=DEMO + "Silver 49, Gold 99, Platinum 249, Corporate 499 a year")
    currency: Literal["EUR"]


class Level(BaseModel):
    code: LEVEL_CODE
    name: str
    kind: Literal["individual", "corporate"]
    threshold: int = Field(..., description=DEMO + "points needed, Silver 500, Gold 1,000, Platinum 2,000 "
                           "(../shared/spec/domain.md); the guides give 500 (the invitation), 2,000 (any of "
                           "Silver, Gold and Platinum) and more than 2,500 (Corporate)")
    price: Price
    eligible: bool
    points_missing: int


class Levels(BaseModel):
    points: int
    invited: bool = Field(..., description="500 points or more: invited to choose a level")
    corporate_open: bool = Field(..., description="more than 2,500 points: the Corporate level is open")
    levels: List[Level]


class Invoice(BaseModel):
    number: str = Field(..., description=DEMO + "INV-<year>-<five random digits>")
    amount: int = Field(..., description=DEMO + "the level's price (Price.amount)")
    currency: Literal["EUR"]
    payment_method: PAYMENT_METHOD
    issued_within_hours: int = Field(..., description=DEMO + "always 4")
    due_date: date = Field(..., description=DEMO + "30 days after the purchase")
    status: Literal["issued"]


class MembershipState(BaseModel):
    status: Literal["none", "active"]
    level: Optional[LEVEL_CODE]
    level_name: Optional[str]
    membership_number: Optional[str] = Field(None, description=DEMO + "CPS-<3 letters of the level>-<6 digits>")
    previous_membership_number: Optional[str] = Field(None, description=DEMO + "CPS-<7 digits>, "
                                                      "when an old CPS account is linked")
    invoice: Optional[Invoice]


class MembershipPurchase(BaseModel):
    level: LEVEL_CODE
    level_name: str
    membership_number: str = Field(..., description=DEMO + "CPS-<3 letters of the level>-<6 digits>")
    previous_membership_number: Optional[str] = Field(..., description=DEMO + "CPS-<7 digits>, "
                                                      "when an old CPS account is linked")
    invoice: Invoice


class TicketCreated(BaseModel):
    ticket_id: str = Field(..., description=DEMO + "T-<8 hex digits>")
    status: Literal["open"]
    language: Literal[LANGUAGES]  # type: ignore[valid-type]


class Ticket(TicketCreated):
    contact_email: str
    summary: str
    product: Optional[str]
    serial_number: Optional[str]
    conversation_excerpt: List[ExcerptLine]
