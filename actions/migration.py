"""Migrating products from the old CPS account: explain, confirm, migrate, report."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.answers import GeneralAnswerFirst, utter_migration_state
from actions.common import Events, cps_client, fetch_quietly


class ValidateMigrationForm(FormValidationAction):
    """Asks for confirmation only when there is something to migrate."""

    def name(self) -> Text:
        return "validate_migration_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        account = await fetch_quietly(cps_client().account, tracker)
        return domain_slots if account and account["migration"] == "available" else []


class ActionMigrateProducts(GeneralAnswerFirst):
    """Runs after migration_form: migrates when confirmed, else explains why not."""

    default_answer = "utter_migrate_products"

    def name(self) -> Text:
        return "action_migrate_products"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        events = await super().run(dispatcher, tracker, domain)
        return events + [SlotSet("migration_confirmed", None)]

    async def answer_with_account(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, token: str
    ) -> Events:
        client = cps_client()
        account = await client.account(token)
        if account["migration"] != "available":
            await utter_migration_state(dispatcher, token, account["migration"])
        elif tracker.get_slot("migration_confirmed"):
            # One key per conversation: a retried or repeated request migrates once.
            result = await client.migrate(token, idempotency_key=f"migrate-{tracker.sender_id}")
            dispatcher.utter_message(
                response="utter_migration_done",
                products=result["products_migrated"],
                points=result["points_migrated"],
                total=result["points_total"],
            )
        else:
            dispatcher.utter_message(response="utter_migration_cancelled")
        return []
