"""Warnings say what happened, why it matters and what to do, in the runner's units; never a
diagnosis."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from service.domain.pain import messages as pain_messages
from service.domain.training import messages as training_messages
from service.domain.training import rules as load

DIAGNOSTIC = re.compile(
    r"\byou (have|are suffering|'ve got)\b|diagnos|sciatica|\bdisc\b|herniat|strain|sprain|"
    r"tendin|fracture|stress reaction|arthritis|you are injured|cauda equina|"
    r"inflammatory back pain|spondyl|stenosis|ankylos|slipped|degenerat|tumou?r|infection",
    re.IGNORECASE)
RUN_DAY = date(2026, 3, 10)


def spike(distance_m: int, baseline_m: int) -> load.SpikeFinding:
    run = load.Run(datetime(2026, 3, 10, 7, tzinfo=UTC), distance_m)
    return load.SpikeFinding(run, baseline_m, load.classify_spike(distance_m, baseline_m))


@pytest.mark.parametrize("units", ["km", "mi"])
def test_a_spike_message_names_the_numbers_the_source_and_the_next_step(units):
    title, body, data = training_messages.run_spike(spike(14_500, 10_000), "run-1", RUN_DAY, units)
    assert "Tuesday 10 March" in body and "45% longer" in body
    assert ("14.5 km" if units == "km" else "9.0 mi") in body
    assert ("11.0 km" if units == "km" else "6.8 mi") in body, "the longest advisable run"
    assert "Frandsen" in body and "Keep your next long run under" in body
    assert data == {
        "rule": "run_spike", "run_id": "run-1", "class": "moderate", "distance_m": 14_500,
        "baseline_m": 10_000, "percent_longer": 45, "threshold_percent": 10,
        "hazard_ratio": 1.52, "longest_advisable_run_m": 11_000, "units": units,
        "source": load.FRANDSEN_2025, "evidence": "E",
    }
    assert not DIAGNOSTIC.search(title + body)


def test_a_weekly_message_names_both_weeks_and_the_threshold():
    change = load.weekly_change([2000] * 7 + [3000] * 7, history_days=30, threshold=0.30)
    title, body, data = training_messages.weekly_jump(change, RUN_DAY, "km", 0.30)
    assert "21.0 km" in body and "14.0 km" in body and "50% more" in body and "30%" in body
    assert "Nielsen" in body and "Consider" in body
    assert data["threshold_percent"] == 30 and data["evidence"] == "E (weak)"
    assert not DIAGNOSTIC.search(title + body)


def test_the_diagnosis_scan_itself_catches_diagnoses():
    assert DIAGNOSTIC.search("It sounds like you have sciatica.")
    assert DIAGNOSTIC.search("a GP can check whether it is inflammatory back pain")
    assert DIAGNOSTIC.search("NICE NG59; cauda equina referral pathways")
    assert not DIAGNOSTIC.search("linked to a higher rate of running injuries")


TEMPLATE_MODULES = ("training/messages", "shoes/messages", "pain/messages", "notify/rules",
                    "stretch/reminders", "pain/tiers", "insights/rules", "insights/report",
                    "stretch/rules", "stretch/catalogue", "training/report")


def _template_texts() -> list[str]:
    """Every string literal (f-string parts included) in the modules that word messages, but
    their docstrings, which speak to developers."""
    import ast
    from pathlib import Path

    import service.domain

    texts = []
    for name in TEMPLATE_MODULES:
        tree = ast.parse((Path(service.domain.__file__).parent / f"{name}.py").read_text())
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)}
        texts += [node.value for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in docstrings]
    return texts


def test_no_message_template_words_a_diagnosis():
    texts = _template_texts()
    assert len(texts) > 100, "the scan must see the templates"
    assert any("emergency department" in text for text in texts), "and the triage wording"
    offending = [text for text in texts if DIAGNOSTIC.search(text)]
    assert offending == []


@pytest.mark.parametrize("tier", ["emergency", "urgent", "review", "inflammatory_screen"])
def test_each_tier_says_what_to_do_how_soon_and_names_every_trigger(tier):
    from service.domain.pain import rules as triage

    triggers = tuple(name for name in pain_messages.TRIGGER_TEXT)
    title, body, data = pain_messages.pain_triage(triage.Triage(tier, triggers))
    urgency = {"emergency": "today", "urgent": "24 to 48 hours", "review": "next week or two",
               "inflammatory_screen": "next few weeks"}[tier]
    assert urgency in body
    assert all(text in body for text in pain_messages.TRIGGER_TEXT.values())
    assert data["tier"] == tier and data["triggers"] == list(triggers) and data["source"]
    assert not DIAGNOSTIC.search(title + body)
