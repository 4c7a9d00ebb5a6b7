"""Errors a person can cause. The code is a message id of the locale files."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: the handler shows the message `code` (with `params`) and nothing is written."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params
