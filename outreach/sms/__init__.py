"""The SMS channel through Twilio: signed webhooks in, REST sends out, keywords, opt-out."""
