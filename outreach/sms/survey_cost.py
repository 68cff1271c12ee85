"""What a survey costs by SMS: the segments of each message a person receives,
as written and in GSM-7 letters, so organisers can choose before they send."""

from __future__ import annotations

from dataclasses import dataclass

from polls import dialogue
from polls.dialogue import Style
from polls.i18n import translator
from polls.sms_text import SmsCost, cheaper
from polls.survey import Survey


@dataclass(frozen=True)
class MessageCost:
    item: str
    """``intro``, a question id, or ``thanks``."""
    language: str
    as_written: SmsCost
    transliterated: SmsCost


def survey_sms_costs(survey: Survey, languages: list[str] | None = None) -> list[MessageCost]:
    """Every message of ``survey`` as sent by SMS, in each language, priced both ways."""
    costs = []
    for language in languages or list(survey.languages):
        _ = translator(language)
        messages = [("intro", dialogue.survey_intro(survey, _).text)]
        for position, question in enumerate(survey.questions):
            state = dialogue.SurveyState(survey.id, "cost", position)
            prompt = dialogue.question_prompt(survey, state, _, style=Style.NUMBERED)
            if prompt is not None:
                messages.append((question.id, prompt.text))
        messages.append(("thanks", dialogue.survey_thanks(survey, _).text))
        for item, text in messages:
            _gsm, before, after = cheaper(text, language)
            costs.append(MessageCost(item, language, before, after))
    return costs
