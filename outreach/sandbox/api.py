"""The sandbox page and the small JSON API behind it.

The page plays Telegram users and SMS phones: what a person types or presses
goes to the emulators, which deliver it to the service exactly as Telegram and
Twilio would; the page then shows what the service sent back, and the live
results of the survey being answered. Sandbox data is make-believe, so results
here show counts even for one person (the real respondent-facing results hide
small groups).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from aiohttp import web
from babel import Locale, UnknownLocaleError
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.sandbox.runtime import SANDBOX_NUMBER, Sandbox
from polls.i18n import N_, language_name, translator
from polls.phone import InvalidPhoneNumber, normalize_phone
from polls.results import question_results
from polls.survey import localize
from storage.answers import AnswerRepository
from storage.models import Answer

SANDBOX_KEY = web.AppKey("sandbox", Sandbox)

# The page's own words, sent to it in the chosen language.
PAGE_TEXTS = {
    "title": N_("Sandbox: try the service"),
    "intro": N_(
        "Everything here is make-believe: the Telegram and SMS servers are emulated "
        "on this computer, the service is real. Add a Telegram user or an SMS phone "
        "and start with /start or JOIN."
    ),
    "add_telegram": N_("Add a Telegram user"),
    "add_sms": N_("Add an SMS phone"),
    "telegram_user": N_("Telegram user {id}"),
    "sms_phone": N_("SMS phone {number}"),
    "message": N_("Message"),
    "send": N_("Send"),
    "share_phone": N_("Share my phone number"),
    "remove": N_("Close"),
    "results": N_("Live results"),
    "answered": N_("{n} answered"),
    "no_answers": N_("No answers yet."),
    "survey": N_("Survey"),
    "you": N_("You"),
    "bot": N_("Bot"),
    "language": N_("Language"),
    "median": N_("Median: {median}"),
    "sms_cost": N_("{segments} SMS segment(s), {encoding}"),
    "started": N_("{n} started"),
    "completed": N_("{n} completed"),
    "latest": N_("Most recent"),
    "status_queued": N_("queued"),
    "status_sent": N_("sent"),
    "status_delivered": N_("delivered"),
    "status_undelivered": N_("not delivered"),
    "status_failed": N_("failed"),
}


def _page_language(request: web.Request, languages: list[str], default: str) -> str:
    asked = request.query.get("lang")
    if asked in languages:
        return asked
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip().split("-")[0].lower()
        if code in languages:
            return code
    return default


def _direction(language: str) -> str:
    try:
        return "rtl" if Locale.parse(language).text_direction == "rtl" else "ltr"
    except (UnknownLocaleError, ValueError):
        return "ltr"


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


class SandboxApi:
    def __init__(self, sandbox: Sandbox, languages: list[str], default_language: str) -> None:
        self.sandbox = sandbox
        self.languages = languages
        self.default_language = default_language

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/sandbox", self.page)
        app.router.add_get("/sandbox/", self.page)
        app.router.add_get("/sandbox/static/{name}", self.static)
        app.router.add_post("/sandbox/api/telegram/{user}/send", self.telegram_send)
        app.router.add_post("/sandbox/api/telegram/{user}/press", self.telegram_press)
        app.router.add_post("/sandbox/api/telegram/{user}/contact", self.telegram_contact)
        app.router.add_get("/sandbox/api/telegram/{user}", self.telegram_chat)
        app.router.add_post("/sandbox/api/sms/{number}/send", self.sms_send)
        app.router.add_get("/sandbox/api/sms/{number}", self.sms_chat)
        app.router.add_get("/sandbox/api/results", self.results)

    # ------------------------------------------------------------ page

    async def page(self, request: web.Request) -> web.Response:
        language = _page_language(request, self.languages, self.default_language)
        _ = translator(language)
        config = {
            "language": language,
            "languages": [{"code": c, "name": language_name(c)} for c in self.languages],
            "texts": {key: _(text) for key, text in PAGE_TEXTS.items()},
            "bot": self.sandbox.telegram.bot_username,
            "sms_number": SANDBOX_NUMBER,
        }
        template = (resources.files("outreach.sandbox") / "page.html").read_text("utf-8")
        html = (
            template.replace("{{lang}}", language)
            .replace("{{dir}}", _direction(language))
            .replace("{{title}}", config["texts"]["title"])
            .replace("{{config}}", json.dumps(config, ensure_ascii=False).replace("</", "<\\/"))
        )
        return web.Response(text=html, content_type="text/html")

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        types = {"sandbox.js": "text/javascript", "sandbox.css": "text/css"}
        if name not in types:
            raise web.HTTPNotFound
        body = (resources.files("outreach.sandbox") / name).read_text("utf-8")
        return web.Response(text=body, content_type=types[name])

    # ------------------------------------------------------------ Telegram

    def _user(self, request: web.Request) -> Any:
        raw = request.match_info["user"]
        if not raw.isdigit() or not 0 < int(raw) < 10**12:
            raise _bad_request("a Telegram user id is a positive whole number")
        language = request.query.get("lang")
        # The page's language is the new person's Telegram language, set once.
        return self.sandbox.telegram.user(
            int(raw),
            first_name=f"Sandbox {raw[-4:]}",
            language_code=language if language in self.languages else "en",
        )

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise _bad_request("send a JSON object") from None
        if not isinstance(body, dict):
            raise _bad_request("send a JSON object")
        return body

    async def telegram_send(self, request: web.Request) -> web.Response:
        user = self._user(request)
        text = str((await self._body(request)).get("text", "")).strip()
        if not text:
            return _json_error(400, "empty message")
        await user.send(text[:4096])
        return await self.telegram_chat(request)

    async def telegram_press(self, request: web.Request) -> web.Response:
        user = self._user(request)
        body = await self._body(request)
        data, message_id = body.get("data"), body.get("message_id")
        message = next((m for m in user.messages if m.get("message_id") == message_id), None)
        if not isinstance(data, str) or message is None:
            return _json_error(400, "no such button")
        try:
            await user.press(data, message=message)
        except LookupError:
            return _json_error(400, "no such button")
        return await self.telegram_chat(request)

    async def telegram_contact(self, request: web.Request) -> web.Response:
        user = self._user(request)
        phone = str((await self._body(request)).get("phone", ""))
        try:
            number = normalize_phone(phone, "AZ")
        except InvalidPhoneNumber as error:
            return _json_error(400, str(error))
        await user.share_contact(number)
        return await self.telegram_chat(request)

    async def telegram_chat(self, request: web.Request) -> web.Response:
        user = self._user(request)
        entries = [
            {
                "id": m["message_id"],
                "from": "bot",
                "text": m.get("text", ""),
                "buttons": [
                    [{"text": b["text"], "data": b.get("callback_data", "")} for b in row]
                    for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
                ],
                "edited": "edit_date" in m,
            }
            for m in user.messages
        ]
        for m in user.sent:
            text = m.get("text") or ("📞 " + m["contact"]["phone_number"] if "contact" in m else "")
            entries.append({"id": m["message_id"], "from": "me", "text": text, "buttons": []})
        entries.sort(key=lambda e: e["id"])
        keyboard = user.reply_keyboard or {}
        asks_contact = any(
            isinstance(b, dict) and b.get("request_contact")
            for row in keyboard.get("keyboard", [])
            for b in row
        )
        return web.json_response({"messages": entries, "asks_contact": asks_contact})

    # ------------------------------------------------------------ SMS

    def _phone(self, request: web.Request) -> Any:
        try:
            number = normalize_phone(request.match_info["number"], "AZ")
        except InvalidPhoneNumber as error:
            raise _bad_request(str(error)) from None
        return self.sandbox.twilio.phone(number)

    async def sms_send(self, request: web.Request) -> web.Response:
        phone = self._phone(request)
        text = str((await self._body(request)).get("text", ""))
        if not text.strip():
            return _json_error(400, "empty message")
        await phone.send(text[:1600])
        return await self.sms_chat(request)

    async def sms_chat(self, request: web.Request) -> web.Response:
        phone = self._phone(request)
        entries = [
            {
                "id": sms.sid,
                "at": sms.created,
                "from": "bot",
                "text": sms.body,
                "status": sms.status,
                "segments": sms.segments,
                "encoding": sms.encoding,
            }
            for sms in phone.received
        ]
        entries.extend(
            {"id": sent.get("MessageSid", ""), "at": at, "from": "me", "text": sent.get("Body", "")}
            for sent, at in zip(phone.inbound, phone.sent_at, strict=True)
        )
        entries.sort(key=lambda e: e["at"])
        return web.json_response({"messages": entries})

    # ------------------------------------------------------------ results

    async def results(self, request: web.Request) -> web.Response:
        from outreach.app import OUTREACH_KEY

        outreach = request.app[OUTREACH_KEY]
        language = _page_language(request, self.languages, self.default_language)
        wanted = request.query.get("survey")
        catalogue = outreach.catalogue

        def query(session: Session) -> dict[str, Any]:
            surveys = catalogue.all_latest(session)
            survey_id = wanted or session.scalar(
                select(Answer.survey_id).order_by(Answer.id.desc()).limit(1)
            )
            stored = next((s for s in surveys if s.survey.id == survey_id), None)
            stored = stored or (surveys[0] if surveys else None)
            listing = [
                {"id": s.survey.id, "title": localize(s.survey.title, language, s.survey.languages)}
                for s in surveys
            ]
            if stored is None:
                return {"surveys": listing, "survey": None}
            repository = AnswerRepository(session)
            counts = repository.counts(survey_id=stored.survey.id)
            found = question_results(
                stored.survey,
                {q: c.answered for q, c in counts.items()},
                {q: c.choices for q, c in counts.items()},
                {q: c.numbers for q, c in counts.items()},
                translator(language),
            )
            return {
                "surveys": listing,
                "survey": {
                    "id": stored.survey.id,
                    "title": localize(stored.survey.title, language, stored.survey.languages),
                    "sessions": repository.session_counts(survey_id=stored.survey.id),
                    "questions": [
                        {
                            "id": r.question_id,
                            "text": r.text,
                            "answered": r.answered,
                            "median": r.median,
                            "choices": [
                                {
                                    "label": c.label,
                                    "count": c.count,
                                    "percent": round(c.percent, 1),
                                }
                                for c in r.choices
                            ],
                        }
                        for r in found
                    ],
                },
            }

        return web.json_response(await outreach.db.read(query))
