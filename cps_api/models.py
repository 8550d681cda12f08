"""Storage: SQLAlchemy 1.4 ORM; SQLite by default, any SQLAlchemy URL works."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Integer, String, Text, create_engine
from sqlalchemy.orm import declarative_base, relationship, sessionmaker

Base = declarative_base()
DETAIL_FIELDS = ("serial_number", "purchase_date", "country_of_purchase", "dealer")


class Account(Base):
    __tablename__ = "accounts"
    token = Column(String(64), primary_key=True)
    business_name = Column(String(200), nullable=False)
    contact_email = Column(String(200), nullable=False)
    language = Column(String(2), nullable=False)
    old_cps_email_linked = Column(Boolean, nullable=False, default=False)
    migrated = Column(Boolean, nullable=False, default=False)
    products = relationship("Product", back_populates="account", order_by="Product.id",
                            cascade="all, delete-orphan")
    membership = relationship("Membership", uselist=False, back_populates="account",
                              cascade="all, delete-orphan")


class Product(Base):
    __tablename__ = "products"
    id = Column(Integer, primary_key=True)
    account_token = Column(String(64), ForeignKey("accounts.token"), nullable=False)
    name = Column(String(120), nullable=False)
    points = Column(Integer, nullable=False)
    serial_number = Column(String(64))
    purchase_date = Column(Date)
    country_of_purchase = Column(String(80))
    dealer = Column(String(120))
    in_old_account = Column(Boolean, nullable=False, default=False)  # waits for migration
    account = relationship("Account", back_populates="products")

    @property
    def missing(self) -> list:
        return [f for f in DETAIL_FIELDS if getattr(self, f) in (None, "")]

    @property
    def complete(self) -> bool:
        return not self.missing


class Membership(Base):
    __tablename__ = "memberships"
    account_token = Column(String(64), ForeignKey("accounts.token"), primary_key=True)
    level = Column(String(20), nullable=False)
    membership_number = Column(String(40), nullable=False)
    previous_membership_number = Column(String(40))
    invoice = Column(JSON)
    account = relationship("Account", back_populates="membership")


class Ticket(Base):
    __tablename__ = "tickets"
    id = Column(String(20), primary_key=True)
    account_token = Column(String(64), ForeignKey("accounts.token"))
    contact_email = Column(String(200), nullable=False)
    language = Column(String(2), nullable=False)
    summary = Column(Text, nullable=False)
    product = Column(String(200))
    serial_number = Column(String(64))
    conversation_excerpt = Column(JSON, nullable=False)
    status = Column(String(20), nullable=False, default="open")


class IdempotentResult(Base):
    """The answer given to a keyed write, replayed when the same key comes again."""

    __tablename__ = "idempotent_results"
    key = Column(String(200), primary_key=True)
    status = Column(Integer, nullable=False)
    body = Column(JSON, nullable=False)


def make_sessionmaker(url: str) -> sessionmaker:
    connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True, future=True)
    Base.metadata.create_all(engine)
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)
