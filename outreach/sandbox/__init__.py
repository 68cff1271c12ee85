"""The no-credentials sandbox: emulated Telegram and SMS, and a page to chat in."""
