"""The reference CPS API over real HTTP: every endpoint, auth, validation, the rules."""
from __future__ import annotations

import pytest

DEMO = ["demo-newcomer", "demo-legacy", "demo-unlinked", "demo-incomplete", "demo-pro", "demo-corporate", "demo-member"]


@pytest.mark.parametrize("path", ["/v1/account", "/v1/products", "/v1/points", "/v1/membership/levels", "/v1/membership"])
def test_unknown_or_missing_token_is_401_problem(api, path):
    for headers in ({"Authorization": "Bearer someone-else"}, {}, {"Authorization": "Basic abc"}):
        response = api.send("GET", path, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == 401


@pytest.mark.parametrize("token", DEMO)
def test_every_demo_account_answers(api, token):
    for path in ("/v1/account", "/v1/products", "/v1/points", "/v1/membership/levels", "/v1/membership"):
        assert api.get(path, token).status_code == 200, path


def test_incomplete_account_has_pending_points(api):
    points = api.get("/v1/points", "demo-incomplete").json()
    assert (points["allocated"], points["pending"]) == (420, 600)
    [r3] = points["pending_products"]
    assert r3["name"] == "EOS R3" and set(r3["missing"]) == {"serial_number", "purchase_date"}
    assert api.get("/v1/membership/levels", "demo-incomplete").json()["invited"] is False

    fixed = api.send("PATCH", f"/v1/products/{r3['id']}", "demo-incomplete",
                     json={"serial_number": "033021001234", "purchase_date": "2024-05-02"})
    assert fixed.status_code == 200 and fixed.json()["complete"] is True
    points = api.get("/v1/points", "demo-incomplete").json()
    assert (points["allocated"], points["pending"]) == (1020, 0)


def test_product_update_validation_and_ownership(api):
    product_id = api.get("/v1/points", "demo-incomplete").json()["pending_products"][0]["id"]
    for body in ({"purchase_date": "2999-01-01"}, {"purchase_date": "yesterday"}, {"colour": "red"}, {"dealer": ""}):
        response = api.send("PATCH", f"/v1/products/{product_id}", "demo-incomplete", json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"]
    assert api.send("PATCH", f"/v1/products/{product_id}", "demo-pro", json={"dealer": "x"}).status_code == 404


def test_migration_is_idempotent(api):
    assert api.get("/v1/account", "demo-legacy").json()["migration"] == "available"
    assert api.get("/v1/points", "demo-legacy").json()["allocated"] == 0
    first = api.send("POST", "/v1/migrations", "demo-legacy", headers={"Idempotency-Key": "k1"}).json()
    again = api.send("POST", "/v1/migrations", "demo-legacy", headers={"Idempotency-Key": "k1"}).json()
    other = api.send("POST", "/v1/migrations", "demo-legacy", headers={"Idempotency-Key": "k2"}).json()
    assert first == again and first["points_migrated"] == 1150
    assert other["points_migrated"] == 0 and other["points_total"] == 1150
    assert api.get("/v1/points", "demo-legacy").json()["allocated"] == 1150
    assert api.get("/v1/account", "demo-legacy").json()["migration"] == "done"


def test_migration_without_linked_account_is_409(api):
    response = api.send("POST", "/v1/migrations", "demo-unlinked")
    assert response.status_code == 409 and response.json()["type"].endswith("/no-linked-account")


def eligible(api, token):
    levels = api.get("/v1/membership/levels", token).json()
    return {lv["code"] for lv in levels["levels"] if lv["eligible"]}, levels


def test_eligibility_rules(api):
    codes, levels = eligible(api, "demo-pro")
    assert codes == {"silver", "gold", "platinum"} and levels["corporate_open"] is False
    codes, levels = eligible(api, "demo-corporate")
    assert "corporate" in codes and levels["corporate_open"] is True and levels["points"] == 2750
    codes, levels = eligible(api, "demo-newcomer")
    assert codes == set() and levels["invited"] is False


def test_buying_a_level(api):
    refused = api.send("POST", "/v1/membership", "demo-pro", json={"level": "corporate", "payment_method": "card"})
    assert refused.status_code == 422 and refused.json()["type"].endswith("/not-eligible")
    assert "401" in refused.json()["detail"]
    bought = api.send("POST", "/v1/membership", "demo-pro", headers={"Idempotency-Key": "m1"},
                      json={"level": "gold", "payment_method": "bank_transfer"})
    assert bought.status_code == 201
    invoice = bought.json()["invoice"]
    assert invoice["payment_method"] == "bank_transfer" and invoice["amount"] == 99 and invoice["due_date"]
    replay = api.send("POST", "/v1/membership", "demo-pro", headers={"Idempotency-Key": "m1"},
                      json={"level": "gold", "payment_method": "bank_transfer"})
    assert replay.json() == bought.json()
    again = api.send("POST", "/v1/membership", "demo-pro", json={"level": "silver", "payment_method": "card"})
    assert again.status_code == 409
    assert api.get("/v1/membership", "demo-pro").json()["membership_number"] == bought.json()["membership_number"]
    bad = api.send("POST", "/v1/membership", "demo-corporate", json={"level": "diamond", "payment_method": "cash"})
    assert bad.status_code == 422


def test_member_account(api):
    membership = api.get("/v1/membership", "demo-member").json()
    assert membership["status"] == "active" and membership["level"] == "gold"
    assert membership["membership_number"] and membership["invoice"]["due_date"]


def test_tickets_with_and_without_token(api):
    body = {"contact_email": "anna@studio.example", "language": "cs", "summary": "Chybí mi body",
            "conversation_excerpt": [{"sender": "user", "text": "kolik mám bodů"}]}
    anonymous = api.send("POST", "/v1/support/tickets", json=body)
    assert anonymous.status_code == 201
    ticket_id = anonymous.json()["ticket_id"]
    assert api.get(f"/v1/support/tickets/{ticket_id}").json()["summary"] == "Chybí mi body"
    assert api.get(f"/v1/support/tickets/{ticket_id}", "demo-pro").status_code == 404

    mine = api.send("POST", "/v1/support/tickets", "demo-pro", json={**body, "language": "da"}).json()
    assert api.get(f"/v1/support/tickets/{mine['ticket_id']}", "demo-pro").json()["language"] == "da"
    assert api.get(f"/v1/support/tickets/{mine['ticket_id']}").status_code == 404
    assert api.send("POST", "/v1/support/tickets", "not-a-token", json=body).status_code == 401
    for broken in ({**body, "contact_email": "nope"}, {**body, "language": "de"}, {**body, "summary": ""},
                   {**body, "conversation_excerpt": [{"sender": "x", "text": "y"}]}):
        assert api.send("POST", "/v1/support/tickets", json=broken).status_code == 422
