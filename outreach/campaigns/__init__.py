"""Campaigns: scheduled broadcasts to chosen audiences, paced, through a durable outbox."""
