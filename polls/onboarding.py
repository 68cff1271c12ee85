"""The first conversation: language, consent, region, age band, gender.

It is an ordinary survey built from configuration and the catalogues, so the
same dialogue rules (buttons, tolerant parsing, re-prompts) serve it on every
channel; the conversation service turns its answers into the person's profile.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from polls.i18n import N_, Translator, language_name, translator
from polls.survey import Choice, Question, QuestionKind, Survey

ONBOARDING_ID = "_profile"
LANGUAGE, CONSENT, REGION, AGE_BAND, GENDER = "language", "consent", "region", "age_band", "gender"
AGREE, DECLINE = "agree", "decline"
PREFER_NOT_TO_SAY = "prefer_not_to_say"

AGE_BANDS: tuple[tuple[str, str], ...] = (
    ("under_15", N_("Under 15")),
    ("15_17", N_("15–17")),
    ("18_24", N_("18–24")),
    ("25_34", N_("25–34")),
    ("35_49", N_("35–49")),
    ("50_64", N_("50–64")),
    ("65_plus", N_("65 or older")),
)
GENDERS: tuple[tuple[str, str], ...] = (
    ("female", N_("Woman")),
    ("male", N_("Man")),
    ("other", N_("Another way")),
    (PREFER_NOT_TO_SAY, N_("Prefer not to say")),
)

# Azerbaijan's 14 economic regions: the default, replaced by the REGIONS setting.
DEFAULT_REGIONS: tuple[str, ...] = (
    N_("Baku"),
    N_("Absheron-Khizi"),
    N_("Daghlig Shirvan"),
    N_("Ganja-Dashkasan"),
    N_("Karabakh"),
    N_("Gazakh-Tovuz"),
    N_("Guba-Khachmaz"),
    N_("Lankaran-Astara"),
    N_("Central Aran"),
    N_("Mil-Mughan"),
    N_("Shirvan-Salyan"),
    N_("Shaki-Zagatala"),
    N_("East Zangezur"),
    N_("Nakhchivan"),
)

CONSENT_TEXT = N_(
    "Before we start. We ask short questions about life in your community and the "
    "Sustainable Development Goals. We keep your answers, language, region, age group "
    "and, if you wish, gender. Results are only published for groups of people, never "
    "for one person. The organisers' staff analyse the answers. See your data with "
    "/mydata, delete it with /forget, any time. Do you agree?"
)
SHORT_CONSENT_TEXT = N_(
    "Short questions on your community and the Sustainable Development Goals. We keep "
    "your answers, language, region and age group; results are only shown for groups. "
    "Reply STOP to stop, HELP for help. Do you agree?"
)
CHOOSE_LANGUAGE = N_("Choose your language")
HOW_TO_STOP = N_("Reply STOP to stop.")


def region_value(name: str) -> str:
    """A stable id for a region name: ``Absheron-Khizi`` -> ``absheron-khizi``."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")


def region_label(value: str, regions: Sequence[str], _: Translator) -> str:
    """A stored region id as its name in the reader's language."""
    name = next((name for name in regions if region_value(name) == value), value)
    return _(name)


def consent_version(languages: Sequence[str], *, short: bool = False) -> str:
    """Identifies the consent wording people agreed to: changes when any translation does."""
    digest = hashlib.sha256()
    for language in sorted(languages):
        text = SHORT_CONSENT_TEXT if short else CONSENT_TEXT
        digest.update(translator(language).gettext(text).encode())
    return ("sms-" if short else "") + digest.hexdigest()[:12]


def _localized(message: str, languages: Sequence[str]) -> dict[str, str]:
    return {lang: translator(lang).gettext(message) for lang in languages}


def _choices(items: Sequence[tuple[str, str]], languages: Sequence[str]) -> tuple[Choice, ...]:
    return tuple(Choice(value, _localized(label, languages)) for value, label in items)


def _in_every_language(message: str, languages: Sequence[str]) -> str:
    """One message in all languages at once, for before anyone has chosen."""
    return " / ".join(dict.fromkeys(translator(lang).gettext(message) for lang in languages))


def build_onboarding(
    languages: Sequence[str], regions: Sequence[str], *, short: bool = False
) -> Survey:
    """The onboarding survey for the configured languages and regions.

    ``short`` is the SMS form, where every character costs: a shorter consent,
    no gender question, and a first message that says how to stop.
    """
    languages = tuple(languages)
    ask_language = _in_every_language(CHOOSE_LANGUAGE, languages)
    if short:
        ask_language += "\n" + _in_every_language(HOW_TO_STOP, languages)
    questions: tuple[Question, ...] = (
        Question(
            id=LANGUAGE,
            kind=QuestionKind.SINGLE_CHOICE,
            text=dict.fromkeys(languages, ask_language),
            choices=tuple(
                Choice(lang, dict.fromkeys(languages, language_name(lang))) for lang in languages
            ),
        ),
        Question(
            id=CONSENT,
            kind=QuestionKind.SINGLE_CHOICE,
            text=_localized(SHORT_CONSENT_TEXT if short else CONSENT_TEXT, languages),
            choices=_choices(((AGREE, N_("I agree")), (DECLINE, N_("No, thanks"))), languages),
        ),
        Question(
            id=REGION,
            kind=QuestionKind.SINGLE_CHOICE,
            text=_localized(N_("Which region do you live in?"), languages),
            choices=_choices([(region_value(r), r) for r in regions], languages),
        ),
        Question(
            id=AGE_BAND,
            kind=QuestionKind.SINGLE_CHOICE,
            text=_localized(N_("How old are you?"), languages),
            choices=_choices(AGE_BANDS, languages),
        ),
    )
    if not short:
        questions += (
            Question(
                id=GENDER,
                kind=QuestionKind.SINGLE_CHOICE,
                text=_localized(N_("Your gender? (optional)"), languages),
                choices=_choices(GENDERS, languages),
            ),
        )
    return Survey(
        id=ONBOARDING_ID,
        title=_localized(N_("About you"), languages),
        languages=languages,
        questions=questions,
    )
