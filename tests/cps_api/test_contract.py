"""The served /openapi.json and the contract file cps_api/openapi.yaml agree."""
from __future__ import annotations

import yaml

from tests.stack import ROOT

CONTRACT = yaml.safe_load((ROOT / "cps_api" / "openapi.yaml").read_text("utf-8"))


def operations(doc):
    return {(path, method, tuple(sorted(op.get("responses", {}))))
            for path, ops in doc["paths"].items() for method, op in ops.items()}


def test_served_document_matches_the_contract(api):
    served = api.get("/openapi.json").json()
    assert served["openapi"].startswith("3.")
    assert operations(served) == operations(CONTRACT)
    assert served["components"]["securitySchemes"] == CONTRACT["components"]["securitySchemes"]


def test_contract_covers_the_spec():
    paths = set(CONTRACT["paths"])
    assert {"/v1/account", "/v1/products", "/v1/products/{product_id}", "/v1/migrations", "/v1/points",
            "/v1/membership/levels", "/v1/membership", "/v1/support/tickets"} <= paths
    assert all(p.startswith("/v1/") or p == "/health" for p in paths)
