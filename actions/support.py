"""Handing over to CPS Priority Support: support_form, then a ticket through the API.

Works signed in or not; the ticket carries the conversation's language and
its last messages so that nobody has to ask the user again.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.common import CPSError, CPSUnauthorized, Events, cps_client, token_of
from bot.message_guard import EMAIL_ADDRESS as EMAIL

EXCERPT_MESSAGES = 12
FORM_SLOTS = ("contact_email", "support_product", "support_summary")
SKIPPED = "-"


def conversation_excerpt(tracker: Tracker, limit: int = EXCERPT_MESSAGES) -> List[Dict[str, str]]:
    """The last messages of both sides, oldest first, for the support agent."""
    lines = [
        {"sender": "user" if e["event"] == "user" else "bot", "text": e["text"]}
        for e in tracker.events
        if e.get("event") in ("user", "bot") and e.get("text") and not e["text"].startswith("/")
    ]
    return lines[-limit:]


class ValidateSupportForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_support_form"

    async def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        found = EMAIL.search(str(value or ""))
        if not found:
            dispatcher.utter_message(response="utter_invalid_email")
            return {"contact_email": None}
        return {"contact_email": found.group().strip(".,;")}

    async def validate_support_summary(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = str(value or "").strip()
        return {"support_summary": text[:2000] if text else None}


class ActionOpenTicket(Action):
    def name(self) -> Text:
        return "action_open_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        email = tracker.get_slot("contact_email")
        product: Optional[str] = tracker.get_slot("support_product")
        try:
            ticket = await self.open(tracker, token_of(tracker), email, product)
            dispatcher.utter_message(response="utter_ticket_opened", ticket_id=ticket["ticket_id"], email=email)
        except CPSError:
            dispatcher.utter_message(response="utter_ticket_failed")
        return [SlotSet(slot, None) for slot in FORM_SLOTS]

    async def open(self, tracker: Tracker, token: Optional[str], email: str, product: Optional[str]) -> Dict[str, Any]:
        request = dict(
            contact_email=email,
            language=tracker.get_slot("language") or "en",
            summary=tracker.get_slot("support_summary") or "",
            product=None if product in (None, SKIPPED) else product,
            excerpt=conversation_excerpt(tracker),
        )
        try:
            return await cps_client().open_ticket(token, **request)
        except CPSUnauthorized:
            # An expired sign-in must not keep a visitor from reaching a person.
            return await cps_client().open_ticket(None, **request)
