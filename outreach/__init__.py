"""The application: settings, the conversation service, channels, web server and CLI."""
