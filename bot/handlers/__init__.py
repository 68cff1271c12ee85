"""Handlers: each turns one kind of update into a neutral inbound message."""
