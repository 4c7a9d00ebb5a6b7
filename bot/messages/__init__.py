"""Renderers of outbox messages, one module per feature (see bot/render.py)."""
