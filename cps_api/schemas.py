"""Request bodies (pydantic v1, as Rasa 3.6 pins it). Validation errors become 422 problems."""
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
