"""Renderers of outbox messages, one module per feature (see ui/render.py)."""
