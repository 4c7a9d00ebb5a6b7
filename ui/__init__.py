"""Presentation: translation, callback data, keyboards, formatting, outbox renderers and the
paced sending of requests to Telegram. Handlers and the scheduler use it; it uses services."""
