"""Whether a request only asks about the home: a question must not change it.

Small models answer "is the front door locked?" by locking or unlocking it. The policy
layer refuses a state-changing call when the request is a question, so this decides,
from the request's words alone, whether it asks and commands nothing.

The rules, per language, over clauses (split at punctuation and at words such as
"then", "and", "so"):

- a clause commands when it starts with an imperative verb ("lock the back door"), or
  when such a verb follows a polite lead-in ("could you (please) close the blinds",
  "please turn on"); in German and Dutch, whose verb comes last after a lead-in
  ("kannst du das Licht ausschalten"), anywhere after it;
- a clause asks when it starts with a question word ("is", "what", "when", ...) or a
  verb of telling ("tell me", "show me", "check whether").

Any command makes the request a command ("is it dark? then turn on the porch light").
Otherwise it is a question when a clause asks or the text has a question mark. An
unknown language is judged by the English rules and its question mark.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
import unicodedata

_CLAUSE_PUNCTUATION = re.compile(r"[.!?;:,¿¡…\n]+")
_QUESTION_MARKS = ("?", "¿")


def _normal(text: str) -> str:
    """Lower case without accents, so that "schließe", "éteins" and "apágala" match."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> frozenset[str]:
    return frozenset(_normal(text).split())


def _phrases(text: str) -> tuple[tuple[str, ...], ...]:
    """Phrases separated by "|", longest first so the longest lead-in wins."""
    phrases = (tuple(_normal(p).split()) for p in text.split("|"))
    return tuple(sorted(phrases, key=len, reverse=True))


def _gerunds(verbs: str) -> str:
    """English verbs and their -ing forms ("would you mind closing the blinds")."""
    forms = []
    for verb in verbs.split():
        forms += [verb, f"{verb}ing", f"{verb[:-1]}ing", f"{verb}{verb[-1]}ing"]
    return " ".join(forms)


@dataclass(frozen=True, slots=True)
class _Rules:
    """The words that mark questions and commands in one language."""

    question_words: frozenset[str]
    command_verbs: frozenset[str]
    # Verbs that ask to be told something: a request to read, not to act.
    telling_verbs: frozenset[str]
    # Words after which a verb says what the person wants ("could you", "please").
    lead_ins: tuple[tuple[str, ...], ...]
    # Words for "please": a verb after one commands, wherever it stands.
    pleases: frozenset[str]
    # Words that carry nothing at the start of a clause ("hey", "just", "please").
    fillers: frozenset[str]
    # Words that start a new clause ("then turn on the lamp").
    splitters: frozenset[str]
    # Words that show a verb at a clause's start is a noun ("lock status?").
    not_after_verb: frozenset[str] = frozenset()
    # After a lead-in the verb may come last (German, Dutch).
    verb_final: bool = False
    # Pronouns a verb may carry at its end (Spanish "apágala").
    enclitics: tuple[str, ...] = ()


_ENGLISH = _Rules(
    question_words=_words(
        "is are was were am what whats which when where who whom whose why how hows "
        "does do did has have had can could would should will shall may any "
        "isn aren wasn weren doesn didn hasn haven hadn couldn wouldn shouldn won"
    ),
    command_verbs=_words(
        _gerunds(
            "turn switch set put make open close shut lock unlock start stop pause "
            "resume play skip mute unmute dim brighten raise lower increase decrease "
            "reduce boost activate deactivate enable disable arm disarm run trigger "
            "toggle change adjust cancel launch execute kill power heat cool warm "
            "lift drop move send press push flip crank keep leave add remove delete "
            "clear vacuum clean mop dock return charge water feed"
        )
    ),
    telling_verbs=_words("tell show list check verify know"),
    lead_ins=_phrases(
        "can you|could you|would you|will you|won t you|can u|could u|would u|"
        "would you mind|do you mind|would you be able to|can you be so kind and|"
        "you can|you could|you should|i want you to|i need you to|i d like you to|"
        "i would like you to|i want to|i d like to|i would like to|go ahead and|"
        "let s|lets|how about|what about|please|kindly"
    ),
    pleases=_words("please kindly"),
    fillers=_words(
        "please just kindly maybe also now quickly hey hi hello ok okay oh um uh "
        "well alright right yes yeah no actually again"
    ),
    splitters=_words("and then so but also plus"),
    not_after_verb=_words(
        "is are was were s status state battery level closed locked unlocked"
    ),
)

_GERMAN = _Rules(
    question_words=_words(
        "ist sind war waren was welche welcher welches welchen welchem wann wie wo "
        "woher wohin wer wem wen warum wieso weshalb weißt wisst hat haben hast gibt "
        "läuft laufen brennt brennen funktioniert steht stehen wurde wurden kann "
        "können kannst könntest"
    ),
    command_verbs=_words(
        "schalte schalt schalten einschalten ausschalten anschalten umschalten mach "
        "mache machen anmachen ausmachen aufmachen zumachen öffne öffnen schließ "
        "schließe schließen abschließen aufschließen zuschließen sperre sperr "
        "sperren entsperre entsperr entsperren verriegle verriegele verriegeln "
        "entriegle entriegele entriegeln stelle stell stellen einstellen setze setz "
        "setzen dimme dimm dimmen starte starten stoppe stopp stoppen halte anhalten "
        "spiele spiel spielen abspielen aktiviere aktivieren deaktiviere "
        "deaktivieren erhöhe erhöhen verringere verringern senke senken fahre fahr "
        "hochfahren runterfahren herunterfahren lass lasse lassen drehe dreh drehen "
        "aufdrehen zudrehen regle regeln pausiere pausieren"
    ),
    telling_verbs=_words(
        "sag sage sagen zeig zeige zeigen prüfe prüf prüfen überprüfe überprüfen "
        "nenne nennen erzähl erzähle liste wissen"
    ),
    lead_ins=_phrases(
        "kannst du|könntest du|würdest du|willst du|magst du|kannst|könntest|"
        "können sie|könnten sie|würden sie|ich möchte|ich will|ich hätte gern|bitte"
    ),
    pleases=_words("bitte"),
    fillers=_words("bitte mal doch hey hallo ok okay jetzt auch ja einmal eben nun"),
    splitters=_words("und dann danach also aber"),
    verb_final=True,
)

_FRENCH = _Rules(
    question_words=_words(
        "est quel quelle quels quelles quand comment où combien qui que qu quoi "
        "pourquoi y sais savez peux pouvez pourrais pourriez"
    ),
    command_verbs=_words(
        "allume allumez allumer éteins éteignez éteindre ferme fermez fermer ouvre "
        "ouvrez ouvrir verrouille verrouillez verrouiller déverrouille déverrouillez "
        "déverrouiller mets mettez mettre règle réglez régler baisse baissez baisser "
        "monte montez monter lance lancez lancer active activez activer désactive "
        "désactivez désactiver arrête arrêtez arrêter démarre démarrez démarrer joue "
        "jouez jouer augmente augmentez augmenter diminue diminuez diminuer passe "
        "passez passer coupe coupez couper"
    ),
    telling_verbs=_words(
        "dis dites dire montre montrez montrer indique indiquez indiquer vérifie "
        "vérifiez vérifier donne donnez donner savoir"
    ),
    lead_ins=_phrases(
        "est ce que tu peux|est ce que tu pourrais|est ce que vous pouvez|"
        "est ce que vous pourriez|peux tu|pouvez vous|pourrais tu|pourriez vous|"
        "tu peux|vous pouvez|tu pourrais|vous pourriez|veux tu|voulez vous|"
        "voudrais tu|voudriez vous|merci de|merci d|je voudrais|je veux|j aimerais"
    ),
    pleases=_words("plaît stp svp"),
    fillers=_words(
        "s il te vous plaît stp svp me m moi l le la les lui nous hey ok bon "
        "maintenant aussi bien"
    ),
    splitters=_words("et puis alors ensuite donc mais"),
)

_SPANISH = _Rules(
    question_words=_words(
        "qué cuál cuáles cuándo cómo dónde cuánto cuánta cuántos cuántas quién "
        "quiénes hay sabes sabe puedes puede podrías podría"
    ),
    command_verbs=_words(
        "enciende encienda encender apaga apague apagar prende prenda prender abre "
        "abra abrir cierra cierre cerrar bloquea bloquee bloquear desbloquea "
        "desbloquee desbloquear pon ponga poner sube suba subir baja baje bajar "
        "activa active activar desactiva desactive desactivar inicia inicie iniciar "
        "detén detenga detener reproduce reproduzca reproducir pausa pause pausar "
        "ajusta ajuste ajustar cambia cambie cambiar haz haga hacer arma arme armar "
        "desarma desarme desarmar atenúa atenúe atenuar "
        # "¿Me apagas la luz?" asks for an action, as a command does.
        "apagas enciendes prendes abres cierras bloqueas desbloqueas pones subes "
        "bajas activas desactivas"
    ),
    telling_verbs=_words(
        "dime dinos decir muestra muestrame mostrar enseñame comprueba comprobar "
        "revisa revisar verifica verificar consulta consultar saber"
    ),
    lead_ins=_phrases(
        "puedes|puede|podrías|podría|me puedes|me puede|me podrías|me podría|"
        "quieres|por favor|haz el favor de|hazme el favor de|quiero"
    ),
    pleases=_words("favor porfa"),
    fillers=_words("me lo la los las le les porfa oye hola ahora ya también favor"),
    splitters=_words("y e luego entonces después pero"),
    enclitics=("las", "los", "les", "nos", "la", "lo", "le", "me", "te", "se"),
)

_DUTCH = _Rules(
    question_words=_words(
        "is zijn wat welke welk wanneer hoe waar wie waarom hoeveel hoelang staat "
        "staan brandt branden werkt werken heeft hebben was waren doet weet kan kun "
        "kunt"
    ),
    command_verbs=_words(
        "zet doe schakel open sluit vergrendel ontgrendel start stop dim speel "
        "activeer deactiveer verhoog verlaag draai maak pauzeer stel zetten "
        "aanzetten uitzetten doen aandoen uitdoen schakelen inschakelen "
        "uitschakelen openen opendoen sluiten dichtdoen vergrendelen ontgrendelen "
        "starten stoppen dimmen spelen afspelen activeren deactiveren verhogen "
        "verlagen draaien maken instellen pauzeren"
    ),
    telling_verbs=_words("vertel vertellen zeg zeggen toon tonen controleer weten"),
    lead_ins=_phrases(
        "kun je|kun jij|kan je|kan jij|kunt u|kan u|wil je|wil jij|wilt u|zou je|"
        "zou jij|zou u|zoudt u|ik wil|alsjeblieft|alstublieft"
    ),
    pleases=_words("alsjeblieft alstublieft aub graag"),
    fillers=_words("alsjeblieft alstublieft aub graag even eens hey oke ok nu ook"),
    splitters=_words("en dan daarna dus maar"),
    verb_final=True,
)

_RULES = {
    "en": _ENGLISH,
    "de": _GERMAN,
    "fr": _FRENCH,
    "es": _SPANISH,
    "nl": _DUTCH,
}

_ASKS, _COMMANDS = "asks", "commands"


def is_question(text: str, language: str) -> bool:
    """Whether the request asks about the home and commands nothing.

    `language` is a code such as "en", "en-GB" or "de-DE"; an unknown one is judged
    by the English rules and the question mark.
    """
    rules = _rules_for(language)
    verdicts = [_judge(words, joined, rules) for words, joined in _clauses(text, rules)]
    if _COMMANDS in verdicts:
        return False
    return _ASKS in verdicts or any(mark in text for mark in _QUESTION_MARKS)


def is_command(text: str, language: str) -> bool:
    """Whether any clause of the request commands (an imperative, perhaps led in)."""
    rules = _rules_for(language)
    return any(
        _judge(words, joined, rules) == _COMMANDS
        for words, joined in _clauses(text, rules)
    )


def _rules_for(language: str) -> _Rules:
    primary = language.replace("_", "-").partition("-")[0].strip().lower()
    return _RULES.get(primary, _ENGLISH)


def _clauses(text: str, rules: _Rules) -> list[tuple[list[str], bool]]:
    """The request's clauses as words, each marked when a conjunction began it."""
    clauses: list[tuple[list[str], bool]] = []
    for part in _CLAUSE_PUNCTUATION.split(_normal(text)):
        words: list[str] = []
        joined = False
        for word in re.findall(r"\w+", part):
            if word in rules.splitters:
                if words:
                    clauses.append((words, joined))
                words, joined = [], True
            else:
                words.append(word)
        if words:
            clauses.append((words, joined))
    return clauses


def _judge(words: list[str], joined: bool, rules: _Rules) -> str | None:
    """Whether one clause asks, commands, or neither."""
    start = _skip(words, 0, rules.fillers)
    verb_at, led = _after_lead_ins(words, start, rules)
    if verb_at < len(words):
        if _commands_at(words, verb_at, joined, rules) or (
            led and rules.verb_final and _any_command(words[verb_at:], rules)
        ):
            return _COMMANDS
        if _is_verb(words[verb_at], rules.telling_verbs, rules):
            return _ASKS
    if _commanded_later(words, start, rules):
        return _COMMANDS
    if start < len(words) and words[start] in rules.question_words:
        return _ASKS
    return None


def _skip(words: list[str], at: int, skipped: frozenset[str]) -> int:
    while at < len(words) and words[at] in skipped:
        at += 1
    return at


def _after_lead_ins(words: list[str], at: int, rules: _Rules) -> tuple[int, bool]:
    """Where the verb should be after lead-ins and fillers, and if a lead-in was seen."""
    led = False
    while at < len(words):
        if length := _lead_in(words, at, rules):
            led, at = True, at + length
        elif words[at] in rules.fillers:
            at += 1
        else:
            break
    return at, led


def _lead_in(words: list[str], at: int, rules: _Rules) -> int:
    """The length of the lead-in that starts at `at`, or 0."""
    for phrase in rules.lead_ins:
        if tuple(words[at : at + len(phrase)]) == phrase:
            return len(phrase)
    return 0


def _commanded_later(words: list[str], start: int, rules: _Rules) -> bool:
    """Whether a "please" inside the clause is followed by a command.

    As in "the lamp please turn it on", where speech lost the comma.
    """
    for at in range(start + 1, len(words)):
        if words[at] not in rules.pleases:
            continue
        verb_at, _ = _after_lead_ins(words, at + 1, rules)
        if verb_at < len(words) and (
            _commands_at(words, verb_at, False, rules)
            or (rules.verb_final and _any_command(words[verb_at:], rules))
        ):
            return True
    return False


def _commands_at(words: list[str], at: int, joined: bool, rules: _Rules) -> bool:
    """Whether the word at `at` is an imperative verb, not a noun or a lone verb.

    After "and" a verb alone is one of a pair ("when did it open and close?").
    """
    if not _is_verb(words[at], rules.command_verbs, rules):
        return False
    following = words[at + 1 : at + 2]
    if joined and not following:
        return False
    return not (following and following[0] in rules.not_after_verb)


def _any_command(words: list[str], rules: _Rules) -> bool:
    return any(_is_verb(word, rules.command_verbs, rules) for word in words)


def _is_verb(word: str, verbs: frozenset[str], rules: _Rules) -> bool:
    """Whether `word` is one of `verbs`, perhaps with a pronoun at its end."""
    if word in verbs:
        return True
    return any(
        word.endswith(pronoun) and word[: -len(pronoun)] in verbs
        for pronoun in rules.enclitics
    )
