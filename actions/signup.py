"""The guided sign-up: works out where the visitor stands and takes the next step.

Asked again ("where were we?", "continue"), it looks at the account afresh,
so it always resumes from the step the visitor has really reached.
"""
from __future__ import annotations

from typing import Text

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import points_to_invitation, utter_incomplete_products
from actions import values
from actions.common import AccountAction, Events, cps_client


def overview_already_given(tracker: Tracker) -> bool:
    return any(
        e.get("event") == "bot" and (e.get("metadata") or {}).get("utter_action") == "utter_signup_overview"
        for e in tracker.events
    )


class ActionGuideSignup(AccountAction):
    def name(self) -> Text:
        return "action_guide_signup"

    async def answer_without_account(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        if not overview_already_given(tracker):
            dispatcher.utter_message(response="utter_signup_overview")
        dispatcher.utter_message(response="utter_signup_step_sign_in")
        return []

    async def answer_with_account(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, token: str
    ) -> Events:
        client = cps_client()
        membership = await client.membership(token)
        if membership["status"] == "active":
            dispatcher.utter_message(
                response="utter_signup_complete",
                level=values.level(membership["level"]),
                number=membership["membership_number"],
            )
            return []
        if not overview_already_given(tracker):
            dispatcher.utter_message(response="utter_signup_overview")

        account = await client.account(token)
        if account["migration"] == "available":
            dispatcher.utter_message(response="utter_signup_step_migrate")
            return [FollowupAction("migration_form")]

        products = (await client.products(token))["products"]
        incomplete = [p for p in products if not p["complete"]]
        levels = await client.levels(token)
        if not products:
            dispatcher.utter_message(response="utter_signup_step_register")
            if account["migration"] == "not_available":
                dispatcher.utter_message(response="utter_signup_old_account_hint")
        elif incomplete:
            dispatcher.utter_message(response="utter_signup_step_points_pending")
            utter_incomplete_products(dispatcher, tracker, incomplete)
        elif not levels["invited"]:
            dispatcher.utter_message(
                response="utter_signup_step_more_points",
                points=levels["points"],
                missing=points_to_invitation(levels),
            )
        else:
            dispatcher.utter_message(response="utter_signup_step_choose_level", points=levels["points"])
            return [FollowupAction("membership_form")]
        dispatcher.utter_message(response="utter_signup_resume_hint")
        return []
