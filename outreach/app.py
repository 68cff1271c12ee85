"""The composition root: settings in, a running service out.

Everything is wired here and nowhere else. The aiohttp application owns the
lifecycle: ``on_startup`` migrates the database, loads the surveys, starts the
Telegram bot and the SMS channel; ``on_cleanup`` stops them in reverse order.
Routes exist from the start (aiohttp freezes them); until startup has built
what serves them they answer 503.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.typedefs import Handler
from telegram.ext import Application

from bot.application import ALLOWED_UPDATES, build_application, publish_commands
from bot.campaign_sender import send_campaign_message
from bot.webhook import telegram_webhook_route
from outreach.campaigns.dispatcher import ChannelRoute, Dispatcher
from outreach.campaigns.scheduler import CampaignScheduler
from outreach.console.accounts import StaffAccounts
from outreach.console.api import CONSOLE_OPERATIONS, add_api_routes
from outreach.console.operations import ConsoleOperations
from outreach.console.pages import add_console_pages
from outreach.console.pages.login import forbidden_page
from outreach.console.pages.rendering import ConsoleConfig
from outreach.console.web_auth import StaffWebAuth, install_staff_auth
from outreach.conversation import ConversationConfig, ConversationService
from outreach.quiz_catalogue import QuizCatalogue
from outreach.sandbox.api import SANDBOX_KEY, SandboxApi
from outreach.sandbox.runtime import Sandbox
from outreach.settings import Settings
from outreach.sms.rendering import sms_bodies
from outreach.sms.twilio_channel import TwilioSmsChannel
from outreach.sms.webhooks import INBOUND_PATH, STATUS_PATH, TwilioWebhooks
from outreach.survey_catalogue import SurveyCatalogue, survey_files
from polls.keywords import DEFAULT_KEYWORDS, Keyword, Keywords
from polls.messages import Outbound
from polls.pacing import Pacer
from storage.campaigns import DueMessage
from storage.database import Database
from storage.instance_secrets import InstanceSecretRepository

logger = logging.getLogger(__name__)

DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
PSEUDONYM_SECRET_NAME = "pseudonym_secret"


@dataclass
class Outreach:
    """The running parts, for the web routes, the CLI and the tests."""

    settings: Settings
    db: Database
    catalogue: SurveyCatalogue
    conversation: ConversationService
    telegram: Application | None = None  # type: ignore[type-arg]
    telegram_route: Handler | None = None
    sms: TwilioSmsChannel | None = None
    sms_webhooks: TwilioWebhooks | None = None
    dispatcher: Dispatcher | None = None
    scheduler: CampaignScheduler | None = None
    accounts: StaffAccounts | None = None
    console: ConsoleOperations | None = None
    """The staff console's operations (the admin API and its pages call them)."""


def webhook_path(settings: Settings) -> str:
    if not settings.telegram_webhook_url:
        return DEFAULT_WEBHOOK_PATH
    return urlsplit(settings.telegram_webhook_url).path or DEFAULT_WEBHOOK_PATH


def sms_keywords(settings: Settings) -> Keywords:
    """The default keywords, each kind replaced by its setting where one is given."""
    configured = {
        Keyword.JOIN: settings.sms_join_words,
        Keyword.STOP: settings.sms_stop_words,
        Keyword.HELP: settings.sms_help_words,
    }
    return Keywords({k: configured.get(k) or DEFAULT_KEYWORDS[k] for k in Keyword})


async def resolve_pseudonym_secret(settings: Settings, db: Database) -> str:
    """PSEUDONYM_SECRET, or the one this deployment made and keeps in its database."""
    if settings.pseudonym_secret:
        return settings.pseudonym_secret.get_secret_value()
    return await db.write(
        lambda session: InstanceSecretRepository(session).get_or_create(name=PSEUDONYM_SECRET_NAME)
    )


async def build_outreach(settings: Settings) -> Outreach:
    """Migrate, load surveys and wire the services (nothing is started)."""
    db = Database(settings.database_url)
    await db.migrate()
    catalogue = SurveyCatalogue(db)
    if settings.surveys_dir.is_dir():
        loaded = await catalogue.load_files(survey_files(settings.surveys_dir))
        logger.info("surveys loaded: %s", ", ".join(f"{s} v{v}" for s, v, _ in loaded) or "none")
    else:
        logger.warning("SURVEYS_DIR %s is not a folder: no surveys loaded", settings.surveys_dir)
    quizzes = QuizCatalogue(db)
    if settings.quizzes_dir.is_dir():
        loaded = await quizzes.load_files(survey_files(settings.quizzes_dir))
        logger.info("quizzes loaded: %s", ", ".join(f"{q} v{v}" for q, v, _ in loaded) or "none")
    pseudonym_secret = await resolve_pseudonym_secret(settings, db)
    conversation = ConversationService(
        db,
        catalogue,
        ConversationConfig(
            languages=settings.languages,
            default_language=settings.default_language,
            regions=settings.regions,
            pseudonym_secret=pseudonym_secret,
            phone_region=settings.default_phone_region,
            confirm_standard_opt_out=settings.sms_confirm_standard_opt_out,
            sms_transliterate=settings.sms_transliterate,
            timezone=settings.timezone,
        ),
        quizzes=quizzes,
    )
    outreach = Outreach(settings, db, catalogue, conversation)
    outreach.accounts = StaffAccounts(db)
    outreach.console = ConsoleOperations(
        db=db,
        catalogue=catalogue,
        accounts=outreach.accounts,
        settings=settings,
        pseudonym_secret=pseudonym_secret,
    )
    routes: dict[str, ChannelRoute] = {}
    token = settings.token()
    if token:
        telegram_pacer = Pacer(settings.telegram_rate, per_recipient=settings.telegram_chat_rate)
        application = outreach.telegram = build_application(
            token=token,
            conversation=conversation,
            base_url=settings.telegram_api_base_url,
            polling=not settings.webhook_mode,
            pacer=telegram_pacer,
        )

        async def send_telegram(message: DueMessage, outbound: Outbound) -> str:
            return await send_campaign_message(application.bot, int(message.address), outbound)

        routes["telegram"] = ChannelRoute(
            "telegram", f"telegram:{token.split(':')[0]}", telegram_pacer, send_telegram
        )
        if settings.webhook_mode:
            secret = settings.telegram_webhook_secret
            outreach.telegram_route = telegram_webhook_route(
                outreach.telegram, secret.get_secret_value() if secret else ""
            )
    if settings.sms_enabled:
        auth_token = settings.twilio_auth_token.get_secret_value()  # type: ignore[union-attr]
        public = (settings.public_base_url or "").rstrip("/")
        outreach.sms = TwilioSmsChannel(
            db=db,
            account_sid=settings.twilio_account_sid or "",
            auth_token=auth_token,
            status_callback_url=public + STATUS_PATH,
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            api_base_url=settings.twilio_api_base_url,
            pacer=Pacer(settings.sms_rate),
        )
        outreach.sms_webhooks = TwilioWebhooks(
            auth_token=auth_token,
            public_base_url=public,
            handle=conversation.handle,
            channel=outreach.sms,
            db=db,
            keywords=sms_keywords(settings),
            phone_region=settings.default_phone_region,
            language=settings.default_language,
        )
        sms = outreach.sms

        async def send_sms(message: DueMessage, outbound: Outbound) -> str:
            body = sms_bodies(
                [outbound], language=message.language, gsm_letters=settings.sms_transliterate
            )[0]
            return await sms.send(message.address, body, purpose="campaign", bulk=True, paced=True)

        sender = settings.twilio_from_number or settings.twilio_messaging_service_sid
        routes["sms"] = ChannelRoute("sms", f"sms:{sender}", sms.pacer, send_sms)
    outreach.dispatcher = Dispatcher(db, routes, zone=ZoneInfo(settings.timezone))
    outreach.scheduler = CampaignScheduler(
        db,
        outreach.dispatcher,
        zones=settings.region_timezones,
        default_zone=settings.timezone,
    )
    return outreach


async def start_telegram(outreach: Outreach) -> None:
    application = outreach.telegram
    if application is None:
        return
    settings = outreach.settings
    await application.initialize()
    await publish_commands(application, settings.languages)
    await application.start()
    if settings.webhook_mode:
        secret = settings.telegram_webhook_secret
        await application.bot.set_webhook(
            url=settings.telegram_webhook_url or "",
            secret_token=secret.get_secret_value() if secret else None,
            allowed_updates=ALLOWED_UPDATES,
        )
        logger.info("Telegram: webhook mode as @%s", application.bot.username)
    else:
        assert application.updater is not None
        await application.bot.delete_webhook()
        await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        logger.info("Telegram: long polling as @%s", application.bot.username)


async def stop_telegram(outreach: Outreach) -> None:
    application = outreach.telegram
    if application is None or not application.running:
        return
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    await application.stop()
    await application.shutdown()


async def health(request: web.Request) -> web.Response:
    """Liveness for load balancers and the Procfile's platform."""
    return web.json_response({"status": "ok"})


OUTREACH_KEY = web.AppKey("outreach", Outreach)


def console_config(settings: Settings) -> ConsoleConfig:
    """What the staff console's pages need from the settings."""
    public = (settings.public_base_url or "").lower()
    return ConsoleConfig(
        languages=tuple(settings.languages),
        default_language=settings.default_language,
        timezone=settings.timezone,
        regions=tuple(settings.regions),
        secure_cookies=public.startswith("https://"),
    )


def _delegate(pick: Callable[[Outreach], Handler | None]) -> Handler:
    """A route served by a part that startup builds."""

    async def route(request: web.Request) -> web.StreamResponse:
        outreach = request.app.get(OUTREACH_KEY)
        handler = pick(outreach) if outreach is not None else None
        if handler is None:
            return web.Response(status=503, text="starting")
        return await handler(request)

    return route


def create_web_app(settings: Settings, sandbox: Sandbox | None = None) -> web.Application:
    """The aiohttp application serving webhooks and pages, owning the lifecycle.

    With ``sandbox``, the emulators' chat page is served at /sandbox too. The admin
    API (/api) is always served: staff sign in with an account (``outreach staff``).
    """
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", health)
    add_api_routes(app)
    add_console_pages(app, console_config(settings))
    if sandbox is not None:
        app[SANDBOX_KEY] = sandbox
        SandboxApi(sandbox, list(settings.languages), settings.default_language).add_routes(app)
    if settings.webhook_mode:
        app.router.add_post(webhook_path(settings), _delegate(lambda o: o.telegram_route))
    if settings.sms_enabled:
        app.router.add_post(
            INBOUND_PATH, _delegate(lambda o: o.sms_webhooks and o.sms_webhooks.receive_sms)
        )
        app.router.add_post(
            STATUS_PATH, _delegate(lambda o: o.sms_webhooks and o.sms_webhooks.receive_status)
        )

    async def on_startup(app: web.Application) -> None:
        outreach = await build_outreach(settings)
        if outreach.sms is not None:
            await outreach.sms.start()
        await start_telegram(outreach)
        if outreach.dispatcher is not None and outreach.scheduler is not None:
            await outreach.dispatcher.start()
            await outreach.scheduler.start()
        if outreach.accounts is not None and outreach.console is not None:
            install_staff_auth(
                app,
                StaffWebAuth.for_site(
                    outreach.accounts,
                    public_base_url=settings.public_base_url,
                    forbidden_page=forbidden_page,
                ),
            )
            app[CONSOLE_OPERATIONS] = outreach.console
        app[OUTREACH_KEY] = outreach

    async def on_cleanup(app: web.Application) -> None:
        outreach = app.get(OUTREACH_KEY)
        if outreach is None:
            return
        if outreach.console is not None:
            await outreach.console.close()
        if outreach.scheduler is not None:
            await outreach.scheduler.stop()
        if outreach.dispatcher is not None:
            await outreach.dispatcher.stop()
        await stop_telegram(outreach)
        if outreach.sms_webhooks is not None:
            await outreach.sms_webhooks.close()
        if outreach.sms is not None:
            await outreach.sms.close()
        await outreach.db.dispose()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


@asynccontextmanager
async def running(
    settings: Settings, host: str, port: int, sandbox: Sandbox | None = None
) -> AsyncIterator[Outreach]:
    """The whole service listening on host:port until the block ends."""
    app = create_web_app(settings, sandbox)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield app[OUTREACH_KEY]
    finally:
        await runner.cleanup()


__all__ = ["OUTREACH_KEY", "Outreach", "build_outreach", "create_web_app", "running"]
