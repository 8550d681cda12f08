"""The contract cps_api/openapi.yaml is the served /openapi.json, and describes every body.

The file is generated from the server (`make openapi`); these tests fail when
the two differ, when a route lacks a response model, its bearer scheme or its
problem+json errors, and when the client (actions/cps_client.py) reads a body
the contract's model does not describe.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple, Type

import pytest
import yaml
from pydantic import BaseModel

from actions.cps_client import CPSClient
from cps_api import schemas
from cps_api.app import create_app
from tests.stack import ROOT

CONTRACT_FILE = ROOT / "cps_api" / "openapi.yaml"
CONTRACT = yaml.safe_load(CONTRACT_FILE.read_text("utf-8"))
SPEC_PATHS = {"/v1/account", "/v1/products", "/v1/products/{product_id}", "/v1/migrations", "/v1/points",
              "/v1/membership/levels", "/v1/membership", "/v1/support/tickets", "/v1/support/tickets/{ticket_id}"}


def operations(doc: Dict[str, Any]) -> List[Tuple[str, str, Dict[str, Any]]]:
    return [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def resolve(doc: Dict[str, Any], schema: Dict[str, Any]) -> Dict[str, Any]:
    ref = schema.get("$ref")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_the_contract_file_is_the_served_document(api):
    served = api.get("/openapi.json").json()
    assert served == CONTRACT, "cps_api/openapi.yaml differs from the server's /openapi.json: run `make openapi`"


def test_contract_covers_the_spec():
    assert SPEC_PATHS <= set(CONTRACT["paths"])
    assert all(p.startswith("/v1/") or p == "/health" for p in CONTRACT["paths"])


def test_every_success_body_has_a_schema_with_properties():
    for path, method, op in operations(CONTRACT):
        successes = {status: r for status, r in op["responses"].items() if status.startswith("2")}
        assert len(successes) == 1, f"{method.upper()} {path}: one success status"
        (status, response), = successes.items()
        schema = resolve(CONTRACT, response["content"]["application/json"]["schema"])
        assert schema.get("type") == "object" and schema.get("properties") and schema.get("required"), \
            f"{method.upper()} {path} {status}: the body must be a described object (response_model=)"


def test_every_v1_route_declares_the_bearer_and_problem_json_errors():
    assert CONTRACT["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer", "description": CONTRACT["components"]["securitySchemes"]
                   ["bearer"]["description"]}}
    problem = schemas.Problem.schema()
    for path, method, op in operations(CONTRACT):
        if not path.startswith("/v1/"):
            assert "security" not in op, f"{path} needs no token"
            continue
        assert op.get("security") == [{"bearer": []}], f"{method.upper()} {path}: security: bearer"
        assert not any(p["name"].lower() == "authorization" for p in op.get("parameters", [])), \
            f"{method.upper()} {path}: the token is the bearer scheme, not a header parameter"
        errors = {s: r for s, r in op["responses"].items() if not s.startswith("2")}
        assert "401" in errors, f"{method.upper()} {path}: 401 for an unknown or missing token"
        for status, response in errors.items():
            assert list(response["content"]) == ["application/problem+json"], \
                f"{method.upper()} {path} {status}: errors are application/problem+json only"
            assert response["content"]["application/problem+json"]["schema"] == problem
    assert "HTTPValidationError" not in CONTRACT["components"]["schemas"], \
        "FastAPI's default 422 body is never sent: every 422 is a problem"


def test_the_status_codes_of_the_spec():
    statuses = {(path, method): set(op["responses"]) for path, method, op in operations(CONTRACT)}
    assert statuses[("/v1/migrations", "post")] >= {"200", "401", "409"}
    assert statuses[("/v1/membership", "post")] >= {"201", "401", "409", "422"}
    assert statuses[("/v1/support/tickets", "post")] >= {"201", "422"}
    assert statuses[("/v1/products/{product_id}", "patch")] >= {"200", "401", "404", "422"}


def test_demo_data_is_labelled_as_the_reference_servers():
    labelled = {(name, field) for name, schema in CONTRACT["components"]["schemas"].items()
                for field, prop in schema.get("properties", {}).items()
                if prop.get("description", "").startswith("Demo data of the reference server")}
    for expected in [("Price", "amount"), ("Level", "threshold"), ("Invoice", "number"), ("Invoice", "due_date"),
                     ("MembershipPurchase", "membership_number"), ("TicketCreated", "ticket_id")]:
        assert expected in labelled, f"{expected}: mark the reference server's demo data in the contract"
    assert "demo software" in CONTRACT["info"]["description"]


# --------------------------------------------------------------------------- the client against the models


class Recorder:
    """Wraps the client's transport: every call's method and path, and what the client made of the answer."""

    def __init__(self, client: CPSClient) -> None:
        self.calls: List[Tuple[str, str, Any]] = []
        original = client._call

        def call(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            result = original(method, path, *args, **kwargs)
            self.calls.append((method, path, result))
            return result

        client._call = call  # type: ignore[method-assign]


def response_model(method: str, path: str) -> Type[BaseModel]:
    """The response_model of the route that answers `method path` (from the app's own routing)."""
    app = create_app("sqlite://")
    from starlette.routing import Match

    scope = {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"", "headers": []}
    for route in app.routes:
        if getattr(route, "response_model", None) and route.matches(scope)[0] == Match.FULL:
            return route.response_model
    raise AssertionError(f"no route with a response model answers {method} {path}")


def test_every_client_call_parses_bodies_the_contract_describes(api):
    client = CPSClient(base_url=api.url)
    recorder = Recorder(client)
    client.account("demo-legacy")
    client.products("demo-incomplete")
    product_id = client.products("demo-incomplete")["products"][-1]["id"]
    client.update_product("demo-incomplete", str(product_id), serial_number="R3-771", purchase_date="2026-03-01",
                          country_of_purchase="Denmark", dealer="Foto Nord")
    client.migrate("demo-legacy", idempotency_key="contract-1")
    client.points("demo-pro")
    client.levels("demo-corporate")
    client.membership("demo-member")
    client.membership("demo-newcomer")
    client.choose_level("demo-pro", "gold", "bank_transfer", idempotency_key="contract-2")
    opened = client.open_ticket(None, "anna@example.com", "cs", "The camera does not register",
                                excerpt=[{"sender": "user", "text": "pomoc"}], idempotency_key="contract-3")
    client.ticket(None, opened["ticket_id"])
    client.open_ticket("demo-member", "hello@ateliernorth.example", "en", "Invoice question")

    covered = set()
    for method, path, body in recorder.calls:
        model = response_model(method, path)
        parsed = model.parse_obj(body)
        assert parsed.dict() == model.parse_raw(parsed.json()).dict()
        assert set(body) == set(model.__fields__), \
            f"{method} {path}: the client got fields {sorted(body)}, the contract's {model.__name__} " \
            f"describes {sorted(model.__fields__)}"
        covered.add(model.__name__)
    contract_calls = {name for name in dir(CPSClient) if not name.startswith("_")}
    assert covered == {"Account", "Products", "Product", "Migration", "Points", "Levels", "MembershipState",
                       "MembershipPurchase", "TicketCreated", "Ticket"}, covered
    assert contract_calls == {"account", "products", "update_product", "migrate", "points", "levels", "choose_level",
                              "membership", "open_ticket", "ticket"}, \
        f"a new client call needs its line in this test: {sorted(contract_calls)}"


def test_the_fields_the_actions_read_are_in_the_contract():
    """Every string key the actions subscript or .get() on an API answer names a field of a response model."""
    import re

    fields = {field for model in vars(schemas).values() if isinstance(model, type) and issubclass(model, BaseModel)
              for field in model.__fields__}
    views = ("account", "products", "product", "points", "levels", "level", "membership", "invoice", "result",
             "purchase", "migration", "ticket", "price", "pending", "item", "p", "lv", "nearest", "problem")
    read = set()
    for source in (ROOT / "actions").glob("*.py"):
        for variable, key in re.findall(r"\b(\w+)(?:\[|\.get\()\"([a-z_]+)\"", source.read_text("utf-8")):
            if variable in views:
                read.add((source.name, variable, key))
    unknown = sorted((s, v, k) for s, v, k in read if k not in fields)
    assert read, "the scan found no field read: adjust the pattern"
    assert not unknown, f"the actions read fields no response model describes: {unknown}"


@pytest.mark.parametrize("model", [schemas.Account, schemas.Levels, schemas.MembershipPurchase])
def test_a_body_missing_a_field_is_refused_by_the_model(model):
    """The models the client is checked against do refuse what the contract does not allow."""
    with pytest.raises(Exception):
        model.parse_obj({})
