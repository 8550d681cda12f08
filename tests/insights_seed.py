"""Conversations with known outcomes, as Rasa's events, for tests/test_insights.py and bench/insights.py.

Each conversation is what the running assistant stores for one visitor: the
session start, then per turn the visitor's message (with the NLU's parse and
the full intent ranking), the language slot the policy sets, the actions and
the responses they sent, forms opening and closing. `scenarios()` gives seven
per language; the expected figures are written out in tests/test_insights.py.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SessionStarted, SlotSet, UserUttered

ROOT = Path(__file__).resolve().parent.parent
INTENTS = [i for i in yaml.safe_load((ROOT / "domain" / "domain.yml").read_text(encoding="utf-8"))["intents"]]
MODEL = {"model_id": "0123456789abcdef0123456789abcdef", "assistant_id": "cps-signup-assistant"}

SECRETS = {
    "token": "tok9f8a7b6c5d4e3f2a1b0c",
    "card": "4111 1111 1111 1111",
    "card digits": "4111111111111111",
    "password": "Foto2024!",
    "e-mail": "anna.novak@example.com",
}
# What each language's visitors type in the scenarios; "unclear2" is "unclear" folded, plus a word.
KEYS = ("greet", "points", "unclear", "unclear2", "deny", "human", "summary", "signup", "login", "login2", "switch",
        "tier", "method", "yes")
TEXTS: Dict[str, Dict[str, str]] = {language: dict(zip(KEYS, texts)) for language, texts in {
    "cs": ("Dobrý den", "Kolik mám bodů?", "Můžu si u CPS půjčit tělo fotoaparátu?",
           "muzu si u cps pujcit telo fotoaparatu prosim", "ne", "Chci mluvit s člověkem",
           "Chybí mi body za objektiv", "Proveďte mě registrací", "Jak se přihlásím?", "Kde je přihlášení k účtu?",
           "můžeme mluvit anglicky?", "zlatou", "kartou", "ano"),
    "hu": ("Szia", "Hány pontom van?", "Bérelhetek vázat a CPS-től a forgatásra?",
           "berelhetek vazat a cps tol a forgatasra kerem", "nem", "Emberrel szeretnék beszélni",
           "Hiányoznak a pontjaim az objektívért", "Vezess végig a regisztráción", "Hogyan jelentkezem be?",
           "Hol van a bejelentkezés?", "beszélhetünk angolul?", "arany", "kártyával", "igen"),
    "da": ("Hej", "Hvor mange point har jeg?", "Kan jeg leje et kamerahus hos CPS?",
           "kan jeg leje et kamerahus hos cps tak", "nej", "Jeg vil tale med et menneske",
           "Jeg mangler point for mit objektiv", "Guid mig gennem tilmeldingen", "Hvordan logger jeg ind?",
           "Hvor finder jeg login til kontoen?", "kan vi tale engelsk?", "guld", "kort", "ja"),
    "lt": ("Laba diena", "Kiek turiu taškų?", "Ar galiu išsinuomoti fotoaparato korpusą?",
           "ar galiu issinuomoti fotoaparato korpusa prasau", "ne", "Noriu kalbėti su žmogumi",
           "Trūksta taškų už objektyvą", "Padėkite man užsiregistruoti", "Kaip prisijungti?",
           "Kur yra paskyros prisijungimas?", "ar galime kalbėti angliškai?", "auksinį", "kortele", "taip"),
    "fi": ("Hei", "Paljonko minulla on pisteitä?", "Voinko vuokrata kameran rungon CPS:ltä?",
           "voinko vuokrata kameran rungon cps lta kiitos", "ei", "Haluan puhua ihmiselle",
           "Objektiivin pisteet puuttuvat", "Opasta minut liittymisessä", "Miten kirjaudun sisään?",
           "Mistä löydän kirjautumisen?", "voimmeko puhua englantia?", "kulta", "kortilla", "kyllä"),
    "en": ("Hello", "How many points do I have?", "Can I rent a camera body from CPS?",
           "can i rent a camera body from cps please", "no", "I want to talk to a person",
           "Points for my lens are missing", "Guide me through signing up", "How do I sign in?",
           "Where is the login for my account?", "can we speak Czech?", "gold", "by card", "yes"),
}.items()}
SECRET_MESSAGES = {  # typed where the assistant did not understand; the guard would have caught two of them live
    "card": f"my card {SECRETS['card']} does not work",
    "password": f"my password is {SECRETS['password']}",
    "token": f"token {SECRETS['token']} please",
    "e-mail": f"write to {SECRETS['e-mail']}",
}


def store_rows(sender_id: str, events: List[Event]) -> List[Tuple[str, str, float, Optional[str], Optional[str], str]]:
    """(sender_id, type_name, timestamp, intent_name, action_name, data): what SQLTrackerStore.save writes."""
    rows = []
    for event in events:
        data = event.as_dict()
        rows.append((sender_id, event.type_name, data.get("timestamp"),
                     data.get("parse_data", {}).get("intent", {}).get("name"), data.get("name"), json.dumps(data)))
    return rows


def switch_target(language: str) -> str:
    return "cs" if language == "en" else "en"


class Script:
    """One visitor's conversation, event by event, a second apart."""

    def __init__(self, sender_id: str, language: str, start: float, signed_in: bool = False) -> None:
        self.sender_id, self.page_language, self.time, self.signed_in = sender_id, language, start, signed_in
        self.events: List[Event] = [
            ActionExecuted("action_session_start", timestamp=self.tick(), metadata=MODEL),
            SessionStarted(timestamp=self.tick(), metadata=MODEL),
            ActionExecuted("action_listen", timestamp=self.tick(), metadata=MODEL),
        ]

    def tick(self) -> float:
        self.time += 1.0
        return self.time

    def user(self, text: str, intent: str, confidence: float = 0.98, guess: Optional[str] = None,
             language: Optional[str] = None, message_id: Optional[str] = None) -> "Script":
        """The visitor's message; `intent="nlu_fallback"` with `guess` the model's best other intent."""
        ranking = [{"name": guess or intent, "confidence": confidence}] + [
            {"name": name, "confidence": 1e-4} for name in INTENTS if name != (guess or intent)]
        if intent == "nlu_fallback":
            ranking.insert(0, {"name": "nlu_fallback", "confidence": 0.5})
        metadata = {"language": self.page_language}
        if self.signed_in:
            metadata["cps_token_sealed"] = "v1.sealed-by-the-channel"
        parse = {"intent": {"name": intent, "confidence": ranking[0]["confidence"]}, "entities": [], "text": text,
                 "message_id": message_id, "metadata": dict(metadata),
                 "text_tokens": [[0, len(text)]], "language": {"name": self.page_language, "confidence": 0.99},
                 "intent_ranking": ranking[:10]}
        self.events.append(UserUttered(text, parse["intent"], [], parse_data=parse, timestamp=self.tick(),
                                       input_channel="socketio", message_id=message_id,
                                       metadata={**metadata, **MODEL}))
        if language:
            self.events.append(SlotSet("language", language, timestamp=self.tick(), metadata=MODEL))
        return self

    def act(self, action: str, *responses: str) -> "Script":
        self.events.append(ActionExecuted(action, policy="RulePolicy", confidence=1.0, timestamp=self.tick(),
                                          metadata=MODEL))
        for response in responses:
            self.events.append(BotUttered(f"({response})", {"buttons": None}, timestamp=self.tick(),
                                          metadata={"utter_action": response, **MODEL}))
        return self

    def loop(self, name: Optional[str]) -> "Script":
        self.events.append(ActiveLoop(name, timestamp=self.tick(), metadata=MODEL))
        return self

    def listen(self) -> "Script":
        return self.act("action_listen")


def scenarios(language: str, start: float, tag: str = "") -> List[Tuple[str, List[Event]]]:
    """Seven conversations in `language` (A answered … G signed in), their events."""
    t = TEXTS[language]
    other = switch_target(language)
    made = []

    def new(name: str, signed_in: bool = False) -> Script:
        script = Script(f"{tag}{language}-{name}", language, start + 100 * len(made), signed_in)
        made.append(script)
        return script

    # A: two questions answered
    (new("a-answered").user(t["greet"], "greet", language=language).act("utter_greet", "utter_greet").listen()
     .user(t["points"], "check_points").act("action_answer_points", "utter_points_general").listen())
    # B: not understood six times: did you mean, rephrase, a near variant, and the planted secrets
    b = new("b-fallback").user(t["unclear"], "nlu_fallback", 0.42, "cps_benefits", language=language)
    b.act("action_two_stage_fallback", "utter_ask_affirmation").loop("action_two_stage_fallback")
    b.user(t["deny"], "deny").act("action_two_stage_fallback", "utter_ask_rephrase")
    b.user(t["unclear2"], "nlu_fallback", 0.38, "cps_benefits").act("action_two_stage_fallback")
    b.act("action_default_fallback", "utter_default").loop(None).listen()
    for kind, guess in (("card", "choose_payment_method"), ("password", "password_reset"), ("token", "login"),
                        ("e-mail", "request_human")):
        b.user(SECRET_MESSAGES[kind], "nlu_fallback", 0.3, guess).act("action_two_stage_fallback", "utter_ask_rephrase")
        b.loop("action_two_stage_fallback").act("action_default_fallback", "utter_default").loop(None).listen()
    # C: an answer, then a person: support form and a ticket
    c = new("c-escalated").user(t["points"], "check_points", language=language)
    c.act("action_answer_points", "utter_points_general").listen()
    c.user(t["human"], "request_human").act("utter_support_intro", "utter_support_intro")
    c.act("support_form", "utter_ask_contact_email").loop("support_form").listen()
    c.user(SECRETS["e-mail"], "inform").act("support_form", "utter_ask_support_product").listen()
    c.user(t["deny"], "deny").act("support_form", "utter_ask_support_summary").listen()
    c.user(t["summary"], "inform").act("support_form").loop(None)
    c.act("action_open_ticket", "utter_ticket_opened").listen()
    # D: signed in, the guide, a level chosen and bought
    d = new("d-finished", signed_in=True).user(t["signup"], "start_signup", language=language)
    d.act("action_guide_signup", "utter_signup_overview", "utter_signup_step_choose_level")
    d.act("membership_form").loop("membership_form").act("action_ask_tier", "utter_ask_tier").listen()
    d.user(t["tier"], "choose_tier").act("membership_form", "utter_ask_payment_method").listen()
    d.user(t["method"], "choose_payment_method").act("membership_form")
    d.act("action_ask_purchase_confirmed", "utter_ask_purchase_confirmed").listen()
    d.user(t["yes"], "affirm").act("membership_form").loop(None)
    d.act("action_buy_membership", "utter_purchase_done", "utter_invoice_card").listen()
    # E: not signed in: the guide stops at signing in; the sign-in answer is asked for again
    (new("e-sign-in").user(t["signup"], "start_signup", language=language)
     .act("action_guide_signup", "utter_signup_overview", "utter_signup_step_sign_in").listen()
     .user(t["login"], "login").act("utter_login", "utter_login").listen()
     .user(t["login2"], "login").act("utter_login", "utter_login").listen())
    # F: greets in its language, switches to another, asks there
    (new("f-switch").user(t["greet"], "greet", language=language).act("utter_greet", "utter_greet").listen()
     .user(t["switch"], "switch_language", language=other).act("utter_language_switched", "utter_language_switched")
     .listen().user(TEXTS[other]["points"], "check_points").act("action_answer_points", "utter_points_general")
     .listen())
    # G: signed in, products registered, points pending
    (new("g-points", signed_in=True).user(t["signup"], "start_signup", language=language)
     .act("action_guide_signup", "utter_signup_overview", "utter_signup_step_points_pending").listen())
    return [(script.sender_id, script.events) for script in made]


def old_conversation(language: str, start: float) -> Tuple[str, List[Event]]:
    """Outside the report's range: a fallback and an escalation that must not count."""
    script = Script(f"old-{language}", language, start)
    script.user(TEXTS[language]["unclear"], "nlu_fallback", 0.4, "cps_benefits", language=language)
    script.act("action_two_stage_fallback", "utter_ask_affirmation").listen()
    script.user(TEXTS[language]["human"], "request_human").act("utter_support_intro", "utter_support_intro")
    script.act("support_form", "utter_ask_contact_email").loop("support_form").listen()
    return script.sender_id, script.events
