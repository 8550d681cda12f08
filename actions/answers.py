"""Answers to the guide's questions, from the visitor's own account when signed in.

Without a token each action gives the guide's general answer and says how to
sign in; with one, it shows the account's own figures from the CPS API.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import AccountAction, Events, cps_client, intent_of
from actions import values

# The guide's general answer for each intent these actions serve.
GENERAL_ANSWER = {
    "check_points": "utter_points_general",
    "points_not_allocated": "utter_points_not_allocated",
    "product_details_missing": "utter_product_details_missing",
    "migrate_button_missing": "utter_migrate_button_missing",
    "join_requirements": "utter_join_requirements",
    "list_tiers": "utter_list_tiers",
    "corporate_tiers": "utter_corporate_tiers",
    "invoice_timing": "utter_invoice_timing",
    "card_charge_date": "utter_card_charge_date",
    "bank_transfer_due": "utter_bank_transfer_due",
    "membership_number": "utter_membership_number",
}


def general_answer(dispatcher: CollectingDispatcher, tracker: Tracker, default: str) -> None:
    dispatcher.utter_message(response=GENERAL_ANSWER.get(intent_of(tracker) or "", default))


class GeneralAnswerFirst(AccountAction):
    """Signed out: the guide's answer and how to sign in."""

    default_answer = "utter_points_general"

    async def answer_without_account(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Events:
        general_answer(dispatcher, tracker, self.default_answer)
        dispatcher.utter_message(response="utter_sign_in_for_account")
        return []


def utter_incomplete_products(
    dispatcher: CollectingDispatcher, tracker: Tracker, products: List[Dict[str, Any]]
) -> None:
    for product in products:
        dispatcher.utter_message(
            response="utter_account_product_incomplete",
            product=product["name"],
            points=product["points"],
            missing=values.labels(product["missing"]),
        )


class ActionAnswerPoints(GeneralAnswerFirst):
    def name(self) -> Text:
        return "action_answer_points"

    async def answer_with_account(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, token: str
    ) -> Events:
        points = await cps_client().points(token)
        dispatcher.utter_message(response="utter_account_points", allocated=points["allocated"])
        if points["pending"]:
            dispatcher.utter_message(response="utter_account_points_pending", pending=points["pending"])
            utter_incomplete_products(dispatcher, tracker, points["pending_products"])
        return []


class ActionAnswerProductDetails(GeneralAnswerFirst):
    default_answer = "utter_product_details_missing"

    def name(self) -> Text:
        return "action_answer_product_details"

    async def answer_with_account(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, token: str
    ) -> Events:
        products = (await cps_client().products(token))["products"]
        incomplete = [p for p in products if not p["complete"]]
        if not products:
            dispatcher.utter_message(response="utter_account_no_products")
            return []
        dispatcher.utter_message(response="utter_account_products_summary", count=len(products))
        if incomplete:
            utter_incomplete_products(dispatcher, tracker, incomplete)
        else:
            dispatcher.utter_message(response="utter_account_products_complete")
        return []


class ActionAnswerMigration(GeneralAnswerFirst):
    """The missing MIGRATE PRODUCTS button, explained from the account's state."""

    default_answer = "utter_migrate_button_missing"

    def name(self) -> Text:
        return "action_answer_migration"

    async def answer_with_account(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, token: str
    ) -> Events:
        account = await cps_client().account(token)
        await utter_migration_state(dispatcher, token, account["migration"])
        return []


async def utter_migration_state(dispatcher: CollectingDispatcher, token: str, migration: str) -> None:
    if migration == "not_available":
        dispatcher.utter_message(response="utter_migration_not_available")
    elif migration == "done":
        points = await cps_client().points(token)
        dispatcher.utter_message(response="utter_migration_already_done", total=points["total"])
    else:
        dispatcher.utter_message(response="utter_migrate_products")


def level_buttons(levels: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One button per level the account may choose, titled by the catalogue ("Arany · 99,00 EUR")."""
    return [
        values.level_button(level, "/choose_tier" + json.dumps({"tier": level["code"]}))
        for level in levels
        if level["eligible"]
    ]


def points_to_invitation(levels: Dict[str, Any]) -> int:
    """Points still missing for the invitation: the lowest level's threshold."""
    return min(level["points_missing"] for level in levels["levels"])


def utter_not_invited(dispatcher: CollectingDispatcher, levels: Dict[str, Any]) -> None:
    dispatcher.utter_message(
        response="utter_account_not_invited", points=levels["points"], missing=points_to_invitation(levels)
    )


async def utter_levels(dispatcher: CollectingDispatcher, token: str) -> Dict[str, Any]:
    """What this account may choose now, and what opens next. Returns the API's answer."""
    levels = await cps_client().levels(token)
    if not levels["invited"]:
        utter_not_invited(dispatcher, levels)
        return levels
    dispatcher.utter_message(
        response="utter_account_levels", points=levels["points"], buttons=level_buttons(levels["levels"])
    )
    locked = [lv for lv in levels["levels"] if not lv["eligible"]]
    if locked:
        nearest = min(locked, key=lambda lv: lv["points_missing"])
        dispatcher.utter_message(
            response="utter_account_level_locked",
            level=values.level(nearest["code"]),
            threshold=nearest["threshold"],
            missing=nearest["points_missing"],
        )
    if levels["corporate_open"]:
        dispatcher.utter_message(response="utter_account_corporate_open")
    return levels


class ActionAnswerLevels(GeneralAnswerFirst):
    default_answer = "utter_list_tiers"

    def name(self) -> Text:
        return "action_answer_levels"

    async def answer_with_account(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, token: str
    ) -> Events:
        if intent_of(tracker) in ("join_requirements", "corporate_tiers"):
            general_answer(dispatcher, tracker, self.default_answer)
        await utter_levels(dispatcher, token)
        return []


class ActionAnswerMembership(GeneralAnswerFirst):
    """Invoice, card charge, bank transfer due date and membership number."""

    default_answer = "utter_invoice_timing"

    def name(self) -> Text:
        return "action_answer_membership"

    async def answer_with_account(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, token: str
    ) -> Events:
        membership = await cps_client().membership(token)
        if membership["status"] != "active":
            general_answer(dispatcher, tracker, self.default_answer)
            dispatcher.utter_message(response="utter_account_not_member")
            return []
        utter_membership(dispatcher, tracker, membership)
        return []


def utter_membership(dispatcher: CollectingDispatcher, tracker: Tracker, membership: Dict[str, Any]) -> None:
    dispatcher.utter_message(
        response="utter_account_membership",
        level=values.level(membership["level"]),
        number=membership["membership_number"],
    )
    invoice = membership.get("invoice")
    if invoice:
        dispatcher.utter_message(
            response="utter_account_invoice",
            invoice=invoice["number"],
            amount=values.money(invoice["amount"], invoice["currency"]),
            payment_method=values.label(invoice["payment_method"]),
            due_date=values.date(invoice["due_date"]),
        )
