"""The conversation service with a real database, without any channel in front."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select

from outreach.conversation import ConversationConfig, ConversationService
from outreach.survey_catalogue import SurveyCatalogue, survey_files
from polls.messages import Channel, Inbound, InboundKind, Outbound, Reply
from polls.onboarding import DEFAULT_REGIONS
from storage.database import Database
from storage.models import Answer, ChannelIdentity, Respondent, SurveySession
from tests.conftest import EXAMPLE_SURVEYS

pytestmark = pytest.mark.storage

_delivery = itertools.count(1)


def make_service(db: Database) -> ConversationService:
    return ConversationService(
        db,
        SurveyCatalogue(db),
        ConversationConfig(
            languages=("az", "ru", "en"),
            default_language="az",
            regions=DEFAULT_REGIONS,
            pseudonym_secret="x" * 40,
        ),
    )


@pytest.fixture
async def service(db: Database) -> AsyncIterator[ConversationService]:
    await SurveyCatalogue(db).load_files(survey_files(EXAMPLE_SURVEYS))
    yield make_service(db)


@dataclass
class Person:
    service: ConversationService
    address: str
    language_hint: str = "en"
    last: list[Outbound] = field(default_factory=list)

    async def send(
        self, kind: InboundKind, text: str, argument: str = "", key: str | None = None
    ) -> Reply:
        reply = await self.service.handle(
            Inbound(
                Channel.TELEGRAM,
                self.address,
                kind,
                text,
                argument,
                dedup_key=key or f"d{next(_delivery)}",
                language_hint=self.language_hint,
            )
        )
        if reply.messages:
            self.last = reply.messages
        return reply

    async def say(self, text: str) -> list[str]:
        return [m.text for m in (await self.send(InboundKind.TEXT, text)).messages]

    async def command(self, name: str, argument: str = "") -> list[str]:
        return [m.text for m in (await self.send(InboundKind.COMMAND, name, argument)).messages]

    async def press(self, label: str) -> list[Outbound]:
        for message in reversed(self.last):
            for button in message.flat_buttons:
                if button.label == label:
                    return (await self.send(InboundKind.BUTTON, button.payload)).messages
        raise LookupError(f"no button {label!r} in {[m.text for m in self.last]}")

    async def onboard(self, survey_id: str = "") -> None:
        await self.command("start", survey_id)
        for answer in ("English", "1", "Baku", "18–24", "Prefer not to say"):
            await self.say(answer)


async def count(db: Database, model: type) -> int:
    return await db.read(lambda s: int(s.scalar(select(func.count()).select_from(model)) or 0))


async def test_onboarding_then_a_whole_survey(service: ConversationService, db: Database) -> None:
    person = Person(service, "1001")
    first = await person.command("start", "youth_priorities")
    assert "Choose your language" in first[0]
    await person.say("English")
    consent = person.last[0].text
    assert "/mydata" in consent and "/forget" in consent
    await person.say("1")
    await person.say("Baku")
    await person.say("18–24")
    texts = await person.say("Prefer not to say")
    assert texts[0] == "Thank you, you're all set."
    assert texts[-1].startswith("1/5 Which Sustainable Development Goals")
    await person.say("4, 13")
    await person.say("2")
    await person.say("4")
    await person.say("yes")
    final = await person.say("More youth centres")
    assert final[0].startswith("Thank you!")
    respondent, answers, status = await db.read(
        lambda s: (
            s.scalar(select(Respondent)),
            {a.question_id: a.value for a in s.scalars(select(Answer))},
            s.scalar(select(SurveySession.status)),
        )
    )
    assert respondent is not None
    assert (respondent.language, respondent.region, respondent.age_band) == ("en", "baku", "18_24")
    assert respondent.gender == "prefer_not_to_say" and respondent.consent_at is not None
    assert answers["top_goals"] == ["quality_education", "climate_action"]
    assert answers["voice_heard"] == 4 and answers["idea"] == "More youth centres"
    assert status == "completed"


async def test_a_redelivered_message_changes_nothing(
    service: ConversationService, db: Database
) -> None:
    person = Person(service, "1002")
    await person.onboard("youth_priorities")
    first = await person.send(InboundKind.TEXT, "1", key="same-update")
    again = await person.send(InboundKind.TEXT, "1", key="same-update")
    assert first.messages and not first.duplicate
    assert again.duplicate and again.messages == []
    assert await count(db, Answer) == 1


async def test_wrong_answers_get_a_friendly_reprompt(service: ConversationService) -> None:
    person = Person(service, "1003")
    await person.onboard("public_services")
    texts = await person.say("my cat")
    assert texts[0].startswith("Sorry, I didn't catch that. Please choose one of the options.")
    assert "1/6" in texts[0]


async def test_declining_consent_keeps_nothing(service: ConversationService, db: Database) -> None:
    person = Person(service, "1004")
    await person.command("start")
    await person.say("English")
    texts = await person.say("No, thanks")
    assert "nothing about you has been kept" in texts[0]
    assert await count(db, Respondent) == 0
    assert await count(db, ChannelIdentity) == 0


async def test_after_a_restart_the_person_continues_at_the_same_question(
    service: ConversationService, db: Database
) -> None:
    person = Person(service, "1005")
    await person.onboard("public_services")
    await person.say("1")
    restarted = Person(make_service(db), "1005")
    texts = await restarted.command("start")
    assert "2/6 How satisfied" in texts[0]
    texts = await restarted.say("5")
    assert texts[-1].startswith("3/6")


async def test_editing_a_survey_mid_way_keeps_the_old_version_for_that_session(
    service: ConversationService, db: Database, tmp_path: Path
) -> None:
    person = Person(service, "1006")
    await person.onboard("public_services")
    await person.say("1")
    edited = (EXAMPLE_SURVEYS / "public_services.yaml").read_text(encoding="utf-8")
    edited = edited.replace("show_results: true", "show_results: false")
    (tmp_path / "public_services.yaml").write_text(edited, encoding="utf-8")
    loaded = await SurveyCatalogue(db).load_files([tmp_path / "public_services.yaml"])
    assert loaded == [("public_services", 2, True)]
    await person.say("4")
    versions = await db.read(lambda s: set(s.scalars(select(Answer.survey_version_id))))
    assert len(versions) == 1
    newcomer = Person(service, "1007")
    await newcomer.onboard("public_services")
    await newcomer.say("2")
    versions = await db.read(lambda s: set(s.scalars(select(Answer.survey_version_id))))
    assert len(versions) == 2


async def test_results_are_shown_only_for_groups(service: ConversationService) -> None:
    async def take_survey(address: str) -> list[str]:
        person = Person(service, address)
        await person.onboard("youth_priorities")
        for answer in ("4", "1", "3", "no"):
            texts = await person.say(answer)
        return texts

    texts = await take_survey("2000")
    assert "once more people have answered" in texts[-1]
    for n in range(1, 5):
        texts = await take_survey(str(2000 + n))
    assert texts[-1].startswith("Results so far:")
    assert "• Quality Education: 100%" in texts[-1]


async def test_my_data_lists_everything_held(service: ConversationService) -> None:
    person = Person(service, "1008")
    await person.onboard("youth_priorities")
    await person.say("4, 13")
    texts = await person.command("mydata")
    joined = "\n".join(texts)
    assert "Participant code:" in joined and "Telegram: 1008" in joined
    assert "Region: Baku" in joined and "Age: 18–24" in joined
    assert "Quality Education, Climate Action" in joined


@pytest.mark.parametrize(
    ("choice", "respondents", "answers"),
    [("Delete my identity", 1, 1), ("Delete everything", 0, 0), ("Cancel", 1, 1)],
    ids=["identity", "everything", "cancel"],
)
async def test_forget(
    service: ConversationService, db: Database, choice: str, respondents: int, answers: int
) -> None:
    person = Person(service, "1009")
    await person.onboard("youth_priorities")
    await person.say("4")
    await person.command("forget")
    messages = await person.press(choice)
    assert messages[0].updates_pressed
    assert await count(db, Respondent) == respondents
    assert await count(db, Answer) == answers
    identities = await count(db, ChannelIdentity)
    assert identities == (1 if choice == "Cancel" else 0)


async def test_buttons_work_like_typing(service: ConversationService, db: Database) -> None:
    person = Person(service, "1010")
    await person.command("start")
    await person.press("English")
    await person.press("I agree")
    await person.press("Baku")
    await person.press("18–24")
    await person.press("Woman")
    await person.press("Youth priorities: the Sustainable Development Goals")
    await person.press("Quality Education")
    await person.press("Climate Action")
    messages = await person.press("Done")
    assert messages[0].updates_pressed and "✔ Quality Education, Climate Action" in messages[0].text
    value = await db.read(lambda s: s.scalar(select(Answer.value)))
    assert value == ["quality_education", "climate_action"]


async def test_language_can_be_changed(service: ConversationService, db: Database) -> None:
    person = Person(service, "1011")
    await person.onboard()
    await person.command("language")
    await person.press("Русский")
    assert await db.read(lambda s: s.scalar(select(Respondent.language))) == "ru"


async def test_many_people_at_once_are_all_counted(
    service: ConversationService, db: Database
) -> None:
    people = [Person(service, str(3000 + n)) for n in range(30)]
    await asyncio.gather(*(p.onboard("youth_priorities") for p in people))
    await asyncio.gather(*(p.say("4") for p in people))
    assert await count(db, Answer) == 30
    assert await count(db, Respondent) == 30
