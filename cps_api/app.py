"""The reference CPS API (FastAPI). Paths under /v1/, bearer tokens, problem+json errors.

Every route declares its response model, its errors (as application/problem+json)
and the bearer scheme, so FastAPI's own OpenAPI document is the whole contract:
`make openapi` writes it to cps_api/openapi.yaml and tests/cps_api/test_contract.py
checks that the two are equal.
"""
from __future__ import annotations

import os
import secrets
from datetime import date, timedelta
from typing import Any, Callable, Dict, Iterator, Optional

from fastapi import Body, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from cps_api import rules
from cps_api import schemas
from cps_api.models import Account, IdempotentResult, Membership, Product, Ticket, make_sessionmaker
from cps_api.schemas import MembershipOrder, ProductUpdate, TicketRequest
from cps_api.seed import reset_account, seed

PROBLEM_BASE = "https://cps-api.example/problems/"
DEFAULT_DATABASE = "sqlite:///.cps_api.sqlite3"
DESCRIPTION = """The CPS API as the assistant's actions use it (actions/cps_client.py).

This document is generated from the reference server (`make openapi`). The
reference server is demo software: its demo accounts (bearer tokens
`demo-newcomer`, `demo-legacy`, `demo-unlinked`, `demo-incomplete`, `demo-pro`,
`demo-corporate`, `demo-member`) exist on every start, and the values marked
"Demo data of the reference server" (prices, invoice, membership and ticket
numbering, due dates) are its own choices, not the real CPS API's.

Errors are `application/problem+json` (RFC 9457). Writes that carry an
`Idempotency-Key` answer the same the second time without acting again.
`POST /v1/support/tickets` and `GET /v1/support/tickets/{ticket_id}` also
work without a token (anonymous tickets)."""

BEARER = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="The signed-in visitor's CPS token: `Authorization: Bearer <token>`")


def problem_responses(*statuses: int, **descriptions: str) -> Dict[int, Dict[str, Any]]:
    """The `responses=` of a route: each status as an application/problem+json body (schemas.Problem)."""
    defaults = {401: "Unknown or missing token", 404: "No such resource for this caller",
                409: "The request clashes with the account's state", 422: "The request is not valid"}
    content = {"application/problem+json": {"schema": schemas.Problem.schema()}}
    return {status: {"description": descriptions.get(f"s{status}", defaults[status]), "content": content}
            for status in statuses}


class Problem(Exception):
    """An error answered as application/problem+json."""

    def __init__(self, status: int, kind: str, title: str, detail: str = "") -> None:
        self.status, self.kind, self.title, self.detail = status, kind, title, detail


def problem_response(status: int, kind: str, title: str, detail: str = "") -> JSONResponse:
    body = schemas.Problem(type=PROBLEM_BASE + kind, title=title, status=status, detail=detail)
    return JSONResponse(body.dict(), status_code=status, media_type="application/problem+json")


def create_app(database_url: Optional[str] = None) -> FastAPI:
    make_session: sessionmaker = make_sessionmaker(
        database_url or os.environ.get("CPS_API_DATABASE_URL", DEFAULT_DATABASE)
    )
    with make_session() as session:
        seed(session)

    app = FastAPI(title="CPS API (reference server)", version="1.0.0", description=DESCRIPTION)

    @app.exception_handler(Problem)
    async def on_problem(request: Request, error: Problem) -> JSONResponse:
        return problem_response(error.status, error.kind, error.title, error.detail)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors())
        return problem_response(422, "invalid-request", "The request is not valid", detail)

    def db() -> Iterator[Session]:
        with make_session() as session:
            yield session

    def bearer(request: Request, credentials: Optional[HTTPAuthorizationCredentials]) -> Optional[str]:
        """The token, None without an Authorization header; any other scheme is refused."""
        if credentials is None:
            if request.headers.get("authorization"):
                raise Problem(401, "unauthorized", "Bearer token required")
            return None
        return credentials.credentials.strip() or None

    def account_for(session: Session, token: Optional[str]) -> Account:
        account = session.get(Account, token) if token else None
        if account is None:
            raise Problem(401, "unauthorized", "Unknown or missing token", "Sign in again to get a valid token.")
        return account

    def signed_in(request: Request, credentials: Optional[HTTPAuthorizationCredentials] = Depends(BEARER),
                  session: Session = Depends(db)) -> Account:
        return account_for(session, bearer(request, credentials))

    def optional_account(request: Request, credentials: Optional[HTTPAuthorizationCredentials] = Depends(BEARER),
                         session: Session = Depends(db)) -> Optional[Account]:
        token = bearer(request, credentials)
        return account_for(session, token) if token else None

    def allocated(account: Account) -> int:
        return sum(p.points for p in account.products if not p.in_old_account and p.complete)

    def replay_or_run(session: Session, key: Optional[str], scope: str, run: Callable[[], Dict[str, Any]],
                      status: int) -> Dict[str, Any]:
        """A keyed write answers the same the second time, without acting again (its route's status both times)."""
        full_key = f"{scope}:{key}" if key else None
        if full_key:
            previous = session.get(IdempotentResult, full_key)
            if previous:
                return previous.body
        body = run()
        if full_key:
            session.add(IdempotentResult(key=full_key, status=status, body=body))
        session.commit()
        return body

    def product_view(p: Product) -> Dict[str, Any]:
        return {
            "id": p.id, "name": p.name, "points": p.points,
            "serial_number": p.serial_number,
            "purchase_date": p.purchase_date.isoformat() if p.purchase_date else None,
            "country_of_purchase": p.country_of_purchase, "dealer": p.dealer,
            "complete": p.complete, "missing": p.missing,
            "points_status": "allocated" if p.complete else "pending",
        }

    def membership_view(m: Optional[Membership]) -> Dict[str, Any]:
        if m is None:
            return {"status": "none", "level": None, "level_name": None, "membership_number": None,
                    "previous_membership_number": None, "invoice": None}
        return {"status": "active", "level": m.level, "level_name": rules.BY_CODE[m.level].name,
                "membership_number": m.membership_number,
                "previous_membership_number": m.previous_membership_number, "invoice": m.invoice}

    @app.get("/health", tags=["service"], response_model=schemas.Health)
    def health() -> Dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/account", tags=["account"], response_model=schemas.Account, responses=problem_responses(401))
    def get_account(account: Account = Depends(signed_in)) -> Dict[str, Any]:
        if not account.old_cps_email_linked:
            migration = "not_available"
        else:
            migration = "done" if account.migrated else "available"
        return {"business_name": account.business_name, "contact_email": account.contact_email,
                "language": account.language, "old_cps_email_linked": account.old_cps_email_linked,
                "migration": migration}

    @app.get("/v1/products", tags=["products"], response_model=schemas.Products, responses=problem_responses(401))
    def get_products(account: Account = Depends(signed_in)) -> Dict[str, Any]:
        return {"products": [product_view(p) for p in account.products if not p.in_old_account]}

    @app.patch("/v1/products/{product_id}", tags=["products"], response_model=schemas.Product,
               responses=problem_responses(401, 404, 422, s404="No such product in this account"))
    def update_product(product_id: int, update: ProductUpdate, account: Account = Depends(signed_in),
                       session: Session = Depends(db)) -> Dict[str, Any]:
        product = session.get(Product, product_id)
        if product is None or product.account_token != account.token or product.in_old_account:
            raise Problem(404, "not-found", "No such product in this account")
        for field, value in update.dict(exclude_unset=True).items():
            setattr(product, field, value)
        session.commit()
        return product_view(product)

    @app.post("/v1/migrations", tags=["products"], response_model=schemas.Migration,
              responses=problem_responses(401, 409, 422, s409="No old CPS account is linked"))
    def migrate(account: Account = Depends(signed_in), session: Session = Depends(db),
                idempotency_key: Optional[str] = Header(None)) -> Dict[str, Any]:
        if not account.old_cps_email_linked:
            raise Problem(409, "no-linked-account", "No old CPS account is linked",
                          "The old CPS e-mail was not given when the business account was registered.")
        old = [p for p in account.products if p.in_old_account]
        scope = f"migrate:{account.token}"
        if idempotency_key and session.get(IdempotentResult, f"{scope}:{idempotency_key}"):
            return replay_or_run(session, idempotency_key, scope, dict, 200)

        def run() -> Dict[str, Any]:
            for product in old:
                product.in_old_account = False
            account.migrated = True
            session.flush()
            return {"status": "migrated", "products_migrated": len(old),
                    "points_migrated": sum(p.points for p in old), "points_total": allocated(account)}

        if account.migrated and not old:  # already done, under another key: nothing to add
            body = {"status": "migrated", "products_migrated": 0, "points_migrated": 0,
                    "points_total": allocated(account)}
            return body
        return replay_or_run(session, idempotency_key, scope, run, 200)

    @app.get("/v1/points", tags=["points"], response_model=schemas.Points, responses=problem_responses(401))
    def get_points(account: Account = Depends(signed_in)) -> Dict[str, Any]:
        registered = [p for p in account.products if not p.in_old_account]
        pending = [p for p in registered if not p.complete]
        done = allocated(account)
        waiting = sum(p.points for p in pending)
        return {"allocated": done, "pending": waiting, "total": done + waiting,
                "pending_products": [{"id": p.id, "name": p.name, "points": p.points, "missing": p.missing}
                                     for p in pending]}

    @app.get("/v1/membership/levels", tags=["membership"], response_model=schemas.Levels,
             responses=problem_responses(401))
    def get_levels(account: Account = Depends(signed_in)) -> Dict[str, Any]:
        return rules.levels_for(allocated(account))

    @app.get("/v1/membership", tags=["membership"], response_model=schemas.MembershipState,
             responses=problem_responses(401))
    def get_membership(account: Account = Depends(signed_in)) -> Dict[str, Any]:
        return membership_view(account.membership)

    @app.post("/v1/membership", tags=["membership"], status_code=201, response_model=schemas.MembershipPurchase,
              responses=problem_responses(401, 409, 422, s409="The account is already a CPS member",
                                          s422="The request is not valid, or the level is not open to the account"))
    def buy_membership(order: MembershipOrder, account: Account = Depends(signed_in),
                       session: Session = Depends(db), idempotency_key: Optional[str] = Header(None)) -> Dict[str, Any]:
        scope = f"membership:{account.token}"
        if idempotency_key and session.get(IdempotentResult, f"{scope}:{idempotency_key}"):
            return replay_or_run(session, idempotency_key, scope, dict, 201)
        if account.membership is not None:
            raise Problem(409, "already-member", "The account is already a CPS member",
                          f"Current level: {rules.BY_CODE[account.membership.level].name}.")
        level = rules.BY_CODE[order.level]
        points = allocated(account)
        if not rules.eligible(level, points):
            raise Problem(422, "not-eligible", f"{level.name} is not open to this account",
                          f"{level.name} needs {level.threshold} points; the account has {points} "
                          f"({level.threshold - points} missing).")

        def run() -> Dict[str, Any]:
            number = f"CPS-{level.code[:3].upper()}-{secrets.randbelow(900000) + 100000}"
            invoice = {"number": f"INV-{date.today().year}-{secrets.randbelow(90000) + 10000}",
                       "amount": level.price, "currency": "EUR", "payment_method": order.payment_method,
                       "issued_within_hours": 4, "due_date": (date.today() + timedelta(days=30)).isoformat(),
                       "status": "issued"}
            previous = f"CPS-{secrets.randbelow(9000000) + 1000000}" if account.old_cps_email_linked else None
            account.membership = Membership(level=level.code, membership_number=number,
                                             previous_membership_number=previous, invoice=invoice)
            session.flush()
            return {"level": level.code, "level_name": level.name, "membership_number": number,
                    "previous_membership_number": previous, "invoice": invoice}

        return replay_or_run(session, idempotency_key, scope, run, 201)

    @app.post("/v1/support/tickets", tags=["support"], status_code=201, response_model=schemas.TicketCreated,
              responses=problem_responses(401, 422))
    def open_ticket(request: TicketRequest, account: Optional[Account] = Depends(optional_account),
                    session: Session = Depends(db), idempotency_key: Optional[str] = Header(None)) -> Dict[str, Any]:
        def run() -> Dict[str, Any]:
            ticket = Ticket(id=f"T-{secrets.token_hex(4).upper()}", account_token=account.token if account else None,
                            contact_email=request.contact_email, language=request.language, summary=request.summary,
                            product=request.product, serial_number=request.serial_number,
                            conversation_excerpt=[line.dict() for line in request.conversation_excerpt])
            session.add(ticket)
            session.flush()
            return {"ticket_id": ticket.id, "status": ticket.status, "language": ticket.language}

        return replay_or_run(session, idempotency_key, f"ticket:{account.token if account else '-'}", run, 201)

    @app.get("/v1/support/tickets/{ticket_id}", tags=["support"], response_model=schemas.Ticket,
             responses=problem_responses(401, 404, 422, s404="No such ticket for this caller"))
    def get_ticket(ticket_id: str, account: Optional[Account] = Depends(optional_account),
                   session: Session = Depends(db)) -> Dict[str, Any]:
        ticket = session.get(Ticket, ticket_id)
        owner = account.token if account else None
        if ticket is None or ticket.account_token != owner:
            raise Problem(404, "not-found", "No such ticket for this caller")
        return {"ticket_id": ticket.id, "status": ticket.status, "language": ticket.language,
                "contact_email": ticket.contact_email, "summary": ticket.summary, "product": ticket.product,
                "serial_number": ticket.serial_number, "conversation_excerpt": ticket.conversation_excerpt}

    admin_token = os.environ.get("CPS_API_ADMIN_TOKEN")
    if admin_token:
        # Only for test runs: puts one demo account back as seeded. Off unless the
        # variable is set, and outside the contract (/v1) and its document.
        # The account's token travels in the body, never in the path an access log keeps.
        @app.post("/admin/reset", include_in_schema=False)
        def reset_demo_account(account: str = Body(..., embed=True), x_admin_token: Optional[str] = Header(None),
                               session: Session = Depends(db)) -> Dict[str, str]:
            if not x_admin_token or not secrets.compare_digest(x_admin_token, admin_token):
                raise Problem(403, "forbidden", "Admin token required")
            reset_account(session, account)
            return {"status": "reset"}

    return app
