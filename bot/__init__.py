"""The Telegram adapter: python-telegram-bot in, neutral messages to the service, replies out.

It receives the conversation service by injection and never imports outreach/ or storage/.
"""
