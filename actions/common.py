"""What every account-aware action shares: the visitor's token, the CPS API
client, and one place that turns API failures into localised answers."""
from __future__ import annotations

import functools
import logging
from abc import ABC, abstractmethod
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.cps_client import AsyncCPSClient, CPSError, CPSUnauthorized, CPSUnavailable
from bot.token_cipher import SEALED_METADATA_KEY, unseal

logger = logging.getLogger(__name__)

Events = List[Dict[Text, Any]]


def token_of(tracker: Tracker) -> Optional[str]:
    """The CPS token the website sent with this conversation's latest message.

    Only the latest message counts: a visitor who signs out stops sending it.
    The sealed value opens only in the conversation it was sealed for and
    only within its lifetime (bot/token_cipher.py), so a copy is worthless.
    """
    metadata = tracker.latest_message.get("metadata") or {}
    return unseal(metadata.get(SEALED_METADATA_KEY), tracker.sender_id)


def intent_of(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


@functools.lru_cache(maxsize=1)
def cps_client() -> AsyncCPSClient:
    return AsyncCPSClient()


async def fetch_quietly(
    call: Callable[[str], Awaitable[Dict[str, Any]]], tracker: Tracker
) -> Optional[Dict[str, Any]]:
    """The API's answer for this visitor, or None when signed out or the API fails.

    For decisions (does a form have anything to ask?) where the action that
    answers afterwards reports the failure to the user.
    """
    token = token_of(tracker)
    if not token:
        return None
    try:
        return await call(token)
    except CPSError:
        return None


async def levels_or_report(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The levels this visitor may choose, or None after telling them why not."""
    try:
        return await cps_client().levels(token_of(tracker))
    except CPSError as error:
        report_api_failure(dispatcher, error)
        return None


def report_api_failure(dispatcher: CollectingDispatcher, error: CPSError) -> None:
    """A localised answer for an API failure; the error itself goes to the log."""
    if isinstance(error, CPSUnauthorized):
        dispatcher.utter_message(response="utter_session_expired")
    elif isinstance(error, CPSUnavailable):
        logger.warning("CPS API unavailable: %s", error)
        dispatcher.utter_message(response="utter_api_unavailable")
    else:  # the API refused what we sent or answered nonsense: our side's fault
        logger.error("CPS API call failed: %s", error)
        dispatcher.utter_message(response="utter_service_unavailable")


class AccountAction(Action, ABC):
    """An answer that uses the visitor's account when signed in.

    Subclasses give the general answer (`answer_without_account`) and the
    account's own (`answer_with_account`); failures of the API are handled
    here once.
    """

    @abstractmethod
    def name(self) -> Text:
        ...

    @abstractmethod
    async def answer_without_account(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Events:
        ...

    @abstractmethod
    async def answer_with_account(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, token: str
    ) -> Events:
        ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        token = token_of(tracker)
        if not token:
            return await self.answer_without_account(dispatcher, tracker)
        try:
            return await self.answer_with_account(dispatcher, tracker, token)
        except CPSError as error:
            report_api_failure(dispatcher, error)
            return []
