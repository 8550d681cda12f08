"""scripts/check_validation.py lets through only the warnings it can explain."""
from __future__ import annotations

import subprocess
import sys

from tests.stack import ROOT

SCRIPT = [sys.executable, str(ROOT / "scripts" / "check_validation.py")]


def check(*warnings: str) -> subprocess.CompletedProcess:
    output = "\n".join(f"/x/y.py:1: UserWarning: {w}" for w in warnings)
    return subprocess.run(SCRIPT, input=output, capture_output=True, text=True, timeout=60)


def test_responses_that_code_sends_and_the_guard_intents_pass():
    result = check("The utterance 'utter_points_general' is not used in any story or rule.",  # a name in actions/
                   "The utterance 'utter_topic_login' is not used in any story or rule.",  # a family in actions/
                   "The utterance 'utter_ask_tier' is not used in any story or rule.",  # a form asks it
                   "The intent 'sensitive_data' is listed in the domain file, but is not found in the NLU training data.")
    assert result.returncode == 0, result.stdout


def test_a_response_nothing_sends_fails():
    result = check("The utterance 'utter_forgotten' is not used in any story or rule.")
    assert result.returncode == 1 and "utter_forgotten" in result.stdout


def test_an_intent_without_examples_fails():
    result = check("The intent 'check_points' is listed in the domain file, but is not found in the NLU training data.")
    assert result.returncode == 1 and "check_points" in result.stdout


def test_any_other_warning_fails():
    result = check("Issue found in 'data/stories/signup.yml': some new kind of problem")
    assert result.returncode == 1 and "some new kind of problem" in result.stdout
