"""Choosing a membership level and a payment method (membership_form), then buying.

Eligibility comes from the CPS API, never from this code: the API owns level
names, thresholds and prices.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.answers import level_buttons, utter_not_invited
from actions.common import (
    CPSError, Events, cps_client, fetch_quietly, levels_or_report, report_api_failure, token_of,
)
from actions import values
from actions.cps_client import CPSConflict, CPSUnavailable, CPSValidationError

FORM_SLOTS = ("tier", "payment_method", "purchase_confirmed")
PAYMENT_METHODS = ("card", "bank_transfer")
# The parse key bot/linear_intents.py sets (INTENT_CLAIMED there); a button's payload has none.
INTENT_CLAIMED = "intent_claimed"
# When the API fails while the form asks, the form stops; the user was told why.
STOP_FORM = [ActiveLoop(None), SlotSet("requested_slot", None)]


def find_level(levels: Dict[str, Any], code: Optional[str]) -> Optional[Dict[str, Any]]:
    return next((lv for lv in levels["levels"] if lv["code"] == code), None)


def utter_not_eligible(dispatcher: CollectingDispatcher, levels: Dict[str, Any], level: Dict[str, Any]) -> None:
    """Why a level is not open to the account yet: its threshold, the points, what is missing."""
    dispatcher.utter_message(
        response="utter_tier_not_eligible",
        level=values.level(level["code"]),
        threshold=level["threshold"],
        points=levels["points"],
        missing=level["points_missing"],
    )


class ValidateMembershipForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_membership_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        # Signed out, already a member or not yet invited: nothing to ask;
        # action_buy_membership explains which.
        membership = await fetch_quietly(cps_client().membership, tracker)
        if not membership or membership["status"] == "active":
            return []
        levels = await fetch_quietly(cps_client().levels, tracker)
        return domain_slots if levels and levels["invited"] else []

    async def validate_tier(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        levels = await levels_or_report(dispatcher, tracker)
        if levels is None:
            return {"tier": None}
        level = find_level(levels, value)
        if level and level["eligible"]:
            return {"tier": value}
        if level:
            utter_not_eligible(dispatcher, levels, level)
        return {"tier": None}

    async def validate_payment_method(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # Only the contract's two values; anything else is asked again.
        return {"payment_method": value if value in PAYMENT_METHODS else None}

    async def validate_purchase_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # A yes that no intent claimed ("???", "asdfgh" read as affirm) buys nothing: the question is asked again.
        if value is True and tracker.latest_message.get(INTENT_CLAIMED) is False:
            return {"purchase_confirmed": None}
        return {"purchase_confirmed": value}


class ActionAskTier(Action):
    """Asks for a level with one button per level this account may choose."""

    def name(self) -> Text:
        return "action_ask_tier"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        levels = await levels_or_report(dispatcher, tracker)
        if levels is None:
            return STOP_FORM
        dispatcher.utter_message(response="utter_ask_tier", buttons=level_buttons(levels["levels"]))
        return []


class ActionAskPurchaseConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_purchase_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        levels = await levels_or_report(dispatcher, tracker)
        if levels is None:
            return STOP_FORM
        level = find_level(levels, tracker.get_slot("tier"))
        if level is None:  # a tier the API does not offer: ask for one again
            return [SlotSet("tier", None)]
        dispatcher.utter_message(
            response="utter_ask_purchase_confirmed",
            level=values.level(level["code"]),
            price=values.money(level["price"]["amount"], level["price"]["currency"]),
            payment_method=values.label(tracker.get_slot("payment_method")),
        )
        return []


class ActionBuyMembership(Action):
    """Runs after membership_form: orders the level, then the invoice and its timing."""

    def name(self) -> Text:
        return "action_buy_membership"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        reset = [SlotSet(slot, None) for slot in FORM_SLOTS]
        token = token_of(tracker)
        if not token:
            dispatcher.utter_message(response="utter_tier_needs_sign_in")
            return reset
        try:
            membership = await cps_client().membership(token)
            if membership["status"] == "active":
                dispatcher.utter_message(
                    response="utter_already_member",
                    level=values.level(membership["level"]),
                    number=membership["membership_number"],
                )
            elif tracker.get_slot("purchase_confirmed") and tracker.get_slot("tier"):
                await self.buy(dispatcher, tracker, token)
            elif not (levels := await cps_client().levels(token))["invited"]:
                utter_not_invited(dispatcher, levels)
            else:
                dispatcher.utter_message(response="utter_purchase_cancelled")
        except CPSUnavailable as error:
            # The API is down or slow: the level and payment method chosen so far stay, and asked again
            # (a level or payment button, say) the form goes on from them once the API is back. The
            # purchase itself is confirmed again: a retried button must not buy without asking.
            report_api_failure(dispatcher, error)
            return [SlotSet("purchase_confirmed", None)]
        except CPSError as error:
            report_api_failure(dispatcher, error)
        return reset

    async def buy(self, dispatcher: CollectingDispatcher, tracker: Tracker, token: str) -> None:
        tier, method = tracker.get_slot("tier"), tracker.get_slot("payment_method")
        try:
            result = await cps_client().choose_level(
                token, tier, method, idempotency_key=f"membership-{tracker.sender_id}-{tier}-{method}"
            )
        except CPSValidationError:
            # 422 not-eligible: the points changed after the form checked the level (a product
            # removed, say). Said as the form says it, with today's figures; nothing was bought.
            levels = await cps_client().levels(token)
            level = find_level(levels, tier)
            if level is None or level["eligible"]:
                raise
            utter_not_eligible(dispatcher, levels, level)
            return
        except CPSConflict as conflict:
            if not conflict.problem_type.endswith("already-member"):
                raise
            # Bought meanwhile (another tab, another conversation): say what the account now holds.
            membership = await cps_client().membership(token)
            dispatcher.utter_message(
                response="utter_already_member", level=values.level(membership["level"]), number=membership["membership_number"]
            )
            return
        dispatcher.utter_message(
            response="utter_purchase_done", level=values.level(result["level"]), number=result["membership_number"]
        )
        if result.get("previous_membership_number"):
            dispatcher.utter_message(
                response="utter_membership_number_changed", previous=result["previous_membership_number"]
            )
        invoice = result["invoice"]
        dispatcher.utter_message(
            response="utter_invoice_card" if method == "card" else "utter_invoice_bank_transfer",
            invoice=invoice["number"],
            amount=values.money(invoice["amount"], invoice["currency"]),
            due_date=values.date(invoice["due_date"]),
        )
