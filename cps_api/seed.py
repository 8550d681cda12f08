"""The demo accounts of ../shared/spec/interfaces.md; the token of each is its name."""
from __future__ import annotations

import zlib
from datetime import date, timedelta

from sqlalchemy.orm import Session

from cps_api.models import Account, Membership, Product


def _product(name: str, points: int, old: bool = False, **missing_none: object) -> Product:
    details = dict(serial_number=f"SN{zlib.crc32(name.encode()):010d}", purchase_date=date(2023, 3, 14),
                   country_of_purchase="Czech Republic", dealer="Foto Škoda")
    details.update(missing_none)
    return Product(name=name, points=points, in_old_account=old, **details)


def demo_accounts() -> list:
    return [
        Account(token="demo-newcomer", business_name="Nová Fotografie s.r.o.", contact_email="info@novafoto.example",
                language="cs"),
        Account(token="demo-legacy", business_name="Kovács Stúdió Kft.", contact_email="studio@kovacs.example",
                language="hu", old_cps_email_linked=True,
                products=[_product("EOS 5D Mark IV", 600, old=True), _product("EF 70-200mm f/2.8L IS III USM", 550, old=True)]),
        Account(token="demo-unlinked", business_name="Nordlys Foto ApS", contact_email="kontakt@nordlys.example",
                language="da"),
        Account(token="demo-incomplete", business_name="Vilniaus Vaizdai UAB", contact_email="info@vaizdai.example",
                language="lt",
                products=[_product("EOS R6 Mark II", 300), _product("RF 24-70mm F2.8 L IS USM", 120),
                          _product("EOS R3", 600, serial_number=None, purchase_date=None)]),
        Account(token="demo-pro", business_name="Hansen Billeder", contact_email="mail@hansen.example", language="da",
                products=[_product("EOS R5", 800), _product("RF 100-500mm F4.5-7.1 L IS USM", 700),
                          _product("EOS R6 Mark II", 600)]),
        Account(token="demo-corporate", business_name="Revontuli Media Oy", contact_email="tuki@revontuli.example",
                language="fi",
                products=[_product("EOS C70", 1200), _product("EOS R3", 900), _product("RF 28-70mm F2 L USM", 650)]),
        Account(token="demo-member", business_name="Atelier North Ltd", contact_email="hello@ateliernorth.example",
                language="en", products=[_product("EOS R5", 800), _product("EOS 1D X Mark III", 700)],
                membership=Membership(level="gold", membership_number="CPS-GLD-204817",
                                      previous_membership_number="CPS-0093311",
                                      invoice={"number": "INV-2026-00417", "amount": 99, "currency": "EUR",
                                               "payment_method": "card", "issued_within_hours": 4,
                                               "due_date": (date.today() + timedelta(days=21)).isoformat(),
                                               "status": "issued"})),
    ]


def seed(session: Session) -> None:
    """Adds each demo account that is not there yet; existing data is kept."""
    for account in demo_accounts():
        if session.get(Account, account.token) is None:
            session.add(account)
    session.commit()


def reset_account(session: Session, token: str) -> None:
    """Puts one demo account back exactly as seeded (test runs only); its tickets stay."""
    fresh = next((a for a in demo_accounts() if a.token == token), None)
    if fresh is None:
        return
    existing = session.get(Account, token)
    if existing is None:
        session.add(fresh)
    else:
        existing.products = []
        existing.membership = None
        session.flush()
        existing.business_name = fresh.business_name
        existing.contact_email = fresh.contact_email
        existing.language = fresh.language
        existing.old_cps_email_linked = bool(fresh.old_cps_email_linked)
        existing.migrated = False
        # Copies, so that the unsaved `fresh` account never joins the session.
        existing.products = [_copy(p, "id", "account_token") for p in fresh.products]
        existing.membership = _copy(fresh.membership, "account_token") if fresh.membership else None
    session.commit()


def _copy(row, *skip: str):
    """A new, unattached row with the same column values (but for `skip`)."""
    columns = {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in skip}
    return type(row)(**columns)
