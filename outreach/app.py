"""The composition root: settings in, a running service out.

Everything is wired here and nowhere else. The aiohttp application owns the
lifecycle: ``on_startup`` migrates the database, loads the surveys and starts
the Telegram bot; ``on_cleanup`` stops them in reverse order.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler
from telegram.ext import Application

from bot.application import ALLOWED_UPDATES, build_application, publish_commands
from bot.webhook import telegram_webhook_route
from outreach.conversation import ConversationConfig, ConversationService
from outreach.settings import Settings
from outreach.survey_catalogue import SurveyCatalogue, survey_files
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
    started: list[str] = field(default_factory=list)


def webhook_path(settings: Settings) -> str:
    if not settings.telegram_webhook_url:
        return DEFAULT_WEBHOOK_PATH
    return urlsplit(settings.telegram_webhook_url).path or DEFAULT_WEBHOOK_PATH


async def build_outreach(settings: Settings) -> Outreach:
    """Migrate, load surveys and wire the services (the bot is built, not started)."""
    db = Database(settings.database_url)
    await db.migrate()
    catalogue = SurveyCatalogue(db)
    if settings.surveys_dir.is_dir():
        loaded = await catalogue.load_files(survey_files(settings.surveys_dir))
        logger.info("surveys loaded: %s", ", ".join(f"{s} v{v}" for s, v, _ in loaded) or "none")
    else:
        logger.warning("SURVEYS_DIR %s is not a folder: no surveys loaded", settings.surveys_dir)
    if settings.pseudonym_secret:
        pseudonym_secret = settings.pseudonym_secret.get_secret_value()
    else:
        pseudonym_secret = await db.write(
            lambda session: InstanceSecretRepository(session).get_or_create(
                name=PSEUDONYM_SECRET_NAME
            )
        )
    conversation = ConversationService(
        db,
        catalogue,
        ConversationConfig(
            languages=settings.languages,
            default_language=settings.default_language,
            regions=settings.regions,
            pseudonym_secret=pseudonym_secret,
        ),
    )
    outreach = Outreach(settings, db, catalogue, conversation)
    token = settings.token()
    if token:
        outreach.telegram = build_application(
            token=token,
            conversation=conversation,
            base_url=settings.telegram_api_base_url,
            polling=not settings.webhook_mode,
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


def create_web_app(settings: Settings) -> web.Application:
    """The aiohttp application serving webhooks and pages, owning the lifecycle."""
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", health)
    # Routes must exist before the server starts; the bot behind them is made at startup.
    telegram_route: list[Handler] = []
    if settings.webhook_mode:

        async def telegram_webhook(request: web.Request) -> web.StreamResponse:
            if not telegram_route:
                return web.Response(status=503, text="starting")
            return await telegram_route[0](request)

        app.router.add_post(webhook_path(settings), telegram_webhook)

    async def on_startup(app: web.Application) -> None:
        outreach = await build_outreach(settings)
        app[OUTREACH_KEY] = outreach
        if outreach.telegram is not None and settings.webhook_mode:
            secret = settings.telegram_webhook_secret
            telegram_route.append(
                telegram_webhook_route(
                    outreach.telegram, secret.get_secret_value() if secret else ""
                )
            )
        await start_telegram(outreach)

    async def on_cleanup(app: web.Application) -> None:
        outreach = app.get(OUTREACH_KEY)
        if outreach is None:
            return
        await stop_telegram(outreach)
        await outreach.db.dispose()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


@asynccontextmanager
async def running(settings: Settings, host: str, port: int) -> AsyncIterator[Outreach]:
    """The whole service listening on host:port until the block ends."""
    app = create_web_app(settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield app[OUTREACH_KEY]
    finally:
        await runner.cleanup()
