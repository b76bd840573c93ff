"""Requests that only ask must be told from requests that command, in each language."""

from __future__ import annotations

import pytest

from custom_components.extended_ollama_conversation.tools.questions import (
    is_question,
)

ENGLISH_QUESTIONS = [
    "is the front door locked?",
    "what temperature is the ecobee set to?",
    "are any windows open?",
    "when did the garage last open?",
    "how warm is it in the bedroom?",
    "does the kitchen light work?",
    "which lights are on?",
    "Is the back door locked",
    "what's the humidity in the bedroom",
    "where is the vacuum?",
    "how long has the porch light been on?",
    "did you turn off the lights?",
    "can you tell me whether the garage door is closed?",
    "tell me which lights are on",
    "check if the back door is locked",
    "hey, is the kitchen light on?",
    "the front door is locked?",
    "any lights on upstairs?",
    "were the blinds closed last night?",
    "when did the garage open and close?",
    "is the lock status ok?",
    "do you know if the alarm is armed?",
    "isn't the heating on?",
    "I want to know if the door is locked",
    "What\u2019s the temperature in the living room?",  # a typographic apostrophe
]

ENGLISH_COMMANDS = [
    "can you turn off the kitchen lights?",
    "could you close the blinds?",
    "would you lock the door please",
    "it is dark, turn on the lamp",
    "I'm cold, set the heating to 22",
    "lock the back door",
    "is it dark? then turn on the porch light",
    "please turn on the porch light",
    "Turn off all the lights.",
    "could you please open the garage door?",
    "would you mind closing the blinds?",
    "will you start the vacuum?",
    "is the kitchen light on? if so, switch it off",
    "what is the temperature? set it to 21",
    "I want you to unlock the front door",
    "the lamp please turn it on",
    "dim the bedroom lights to 30%",
    "go ahead and arm the alarm",
    "can u open the blinds",
    "hey, lock the front door",
    "how about turning on the fan?",
    "turn on the lamp and lock the door",
    "set the thermostat to 20?",
    "the living room is dark so turn on the lights",
    "give me more light",
]


@pytest.mark.parametrize("text", ENGLISH_QUESTIONS)
def test_english_questions(text: str) -> None:
    assert is_question(text, "en")


@pytest.mark.parametrize("text", ENGLISH_COMMANDS)
def test_english_commands(text: str) -> None:
    assert not is_question(text, "en")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Ist die Haustür abgeschlossen?", "de"),
        ("Wie warm ist es im Schlafzimmer", "de-DE"),
        ("Welche Lichter sind an?", "de"),
        ("Wann wurde das Garagentor geöffnet?", "de-AT"),
        ("Kannst du mir sagen, ob die Tür zu ist?", "de"),
        ("Est-ce que la porte d'entrée est verrouillée ?", "fr"),
        ("Quelle est la température du salon", "fr-FR"),
        ("Pouvez-vous me dire si la porte est fermée ?", "fr-CA"),
        ("la lumière de la cuisine est allumée ?", "fr"),
        ("¿Está cerrada la puerta principal?", "es"),
        ("Qué temperatura hace en el salón", "es-ES"),
        ("¿Cuándo se abrió el garaje?", "es-419"),
        ("¿Me puedes decir si la puerta está cerrada?", "es"),
        ("Is de voordeur op slot?", "nl"),
        ("Welke lampen staan aan", "nl-BE"),
        ("Hoe warm is het in de slaapkamer?", "nl_NL"),
        ("Kun je me vertellen of de garage dicht is?", "nl"),
        ("Hast du das Licht ausgeschaltet?", "de"),
        ("Quand est-ce que le garage a été ouvert ?", "fr"),
        ("¿Puedes decirme si la puerta está cerrada?", "es"),
        ("Staat de verwarming aan?", "nl"),
    ],
)
def test_questions_in_other_languages(text: str, language: str) -> None:
    assert is_question(text, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Kannst du das Licht in der Küche ausschalten?", "de"),
        ("Schalte das Licht im Wohnzimmer ein", "de-DE"),
        ("Es ist dunkel, mach das Licht an", "de"),
        ("Ist es dunkel? Dann schalte die Lampe ein", "de"),
        ("Könnten Sie bitte die Haustür abschließen?", "de-CH"),
        ("Bitte die Rollläden schließen", "de"),
        ("Peux-tu éteindre la lumière ?", "fr"),
        ("Allume la lampe du salon", "fr-FR"),
        ("Il fait sombre, allume la lumière", "fr"),
        ("Est-ce que tu peux fermer les volets ?", "fr"),
        ("S'il te plaît, verrouille la porte", "fr"),
        ("¿Puedes apagar las luces de la cocina?", "es"),
        ("Apaga la luz", "es-MX"),
        ("Hace frío, pon la calefacción a 22", "es"),
        ("Enciéndela, por favor", "es"),
        ("¿Podrías cerrar las persianas?", "es"),
        ("Kun je de lamp aanzetten?", "nl"),
        ("Doe het licht in de keuken uit", "nl-NL"),
        ("Het is donker, zet de lamp aan", "nl"),
        ("Wil je de voordeur vergrendelen?", "nl"),
        ("Würdest du die Heizung auf 22 Grad stellen?", "de"),
        ("Pourrais-tu l'allumer ?", "fr"),
        ("¿Me apagas la luz?", "es"),
        ("Is het donker? Doe dan de lamp aan", "nl"),
    ],
)
def test_commands_in_other_languages(text: str, language: str) -> None:
    assert not is_question(text, language)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # No rules for Italian: English rules, then the question mark.
        ("la porta è chiusa?", True),
        ("accendi la luce", False),
        ("can you turn off the kitchen lights?", False),
        ("is the front door locked", True),
    ],
)
def test_unknown_language_falls_back_to_english_and_the_question_mark(
    text: str, expected: bool
) -> None:
    assert is_question(text, "it-IT") is expected


def test_rules_are_per_language() -> None:
    """A German command is not mistaken for English and the other way round."""
    assert not is_question("Kannst du das Licht ausschalten?", "de")
    assert is_question("Kannst du das Licht ausschalten?", "en")
    assert not is_question("could you close the blinds?", "en")


@pytest.mark.parametrize("text", ["", "   ", "?", "...", "22"])
def test_degenerate_text_is_judged_without_error(text: str) -> None:
    assert is_question(text, "en") is ("?" in text)


def test_a_statement_without_a_question_is_not_a_question() -> None:
    assert not is_question("I'm cold", "en")
    assert not is_question("Mir ist kalt", "de")
