"""Telegram Payments on the fake Bot API (issue 13): sendInvoice, pre_checkout_query updates,
answerPreCheckoutQuery (with Telegram's 10-second rule) and successful_payment messages.

`FakePayments(fake)` registers the two methods on a running FakeTelegram; tests then play the
payer: `pre_checkout(user, invoice)` and `successful_payment(user, invoice)` enqueue updates.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from aiogram.enums import Currency

from tests.fakes.telegram import JSON, Call, FakeTelegram, TelegramApiError

ANSWER_WITHIN = 10.0  # seconds: "The Bot API must receive an answer within 10 seconds"


class FakePayments:
    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.invoices: list[JSON] = []  # what each sendInvoice asked for, with its chat
        self.answers: dict[str, JSON] = {}  # pre-checkout query id -> the bot's answer
        self._asked: dict[str, float] = {}  # query id -> time.monotonic() it was sent
        fake.register("sendInvoice", self._send_invoice)
        fake.register("answerPreCheckoutQuery", self._answer_pre_checkout)

    # --- the bot's requests ----------------------------------------------------------------

    def _send_invoice(self, call: Call) -> JSON:
        params = call.params
        title, description = str(params.get("title", "")), str(params.get("description", ""))
        payload = str(params.get("payload", ""))
        if not 1 <= len(title) <= 32:
            raise TelegramApiError(400, "Bad Request: invoice title length must be 1-32")
        if not 1 <= len(description) <= 255:
            raise TelegramApiError(400, "Bad Request: invoice description length must be 1-255")
        if not 1 <= len(payload.encode()) <= 128:
            raise TelegramApiError(400, "Bad Request: invoice payload length must be 1-128 bytes")
        currency = str(params.get("currency", ""))
        if currency not in Currency.__members__ or currency == "XTR":
            # Stars are for digital goods; a visit is paid in a real currency via a provider.
            raise TelegramApiError(400, "Bad Request: CURRENCY_INVALID")
        if not params.get("provider_token"):
            raise TelegramApiError(400, "Bad Request: PAYMENT_PROVIDER_INVALID")
        prices = params.get("prices")
        if not isinstance(prices, list) or not prices:
            raise TelegramApiError(400, "Bad Request: prices must be non-empty")
        amounts: list[int] = [
            p["amount"] for p in prices if isinstance(p, dict) and isinstance(p.get("amount"), int)
        ]
        if len(amounts) != len(prices):
            raise TelegramApiError(400, "Bad Request: price amounts must be integers")
        total = sum(amounts)
        if total <= 0:
            raise TelegramApiError(400, "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID")
        content: JSON = {
            "invoice": {
                "title": title,
                "description": description,
                "start_parameter": str(params.get("start_parameter") or ""),
                "currency": currency,
                "total_amount": total,
            }
        }
        message = self.fake._outgoing(call, content)
        self.invoices.append(
            {
                "chat_id": message["chat"]["id"],
                "payload": payload,
                "currency": currency,
                "total_amount": total,
                "title": title,
                "description": description,
            }
        )
        return message

    def _answer_pre_checkout(self, call: Call) -> bool:
        query_id = str(call.params.get("pre_checkout_query_id", ""))
        asked = self._asked.get(query_id)
        if asked is None or query_id in self.answers:
            raise TelegramApiError(400, "Bad Request: QUERY_ID_INVALID")
        if time.monotonic() - asked > ANSWER_WITHIN:
            raise TelegramApiError(400, "Bad Request: query is too old")
        ok = call.params.get("ok")
        if not isinstance(ok, bool):
            raise TelegramApiError(400, "Bad Request: ok must be a boolean")
        if not ok and not call.params.get("error_message"):
            raise TelegramApiError(400, "Bad Request: ERROR_TEXT_EMPTY")
        self.answers[query_id] = dict(call.params)
        return True

    # --- the payer's side ------------------------------------------------------------------

    def pre_checkout(self, user_id: int, invoice: JSON, **changes: Any) -> JSON:
        """The payer confirmed: Telegram asks the bot. `changes` forge fields (a wrong total)."""
        user = self.fake._remember_user(user_id, None, None, None, "en")
        query_id = str(secrets.randbits(62))
        query: JSON = {
            "id": query_id,
            "from": user,
            "currency": invoice["currency"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": invoice["payload"],
        }
        query.update(changes)
        self._asked[query_id] = time.monotonic()
        return self.fake.enqueue({"pre_checkout_query": query})

    def successful_payment(self, user_id: int, invoice: JSON) -> JSON:
        """Telegram charged the payer: a service message in the chat with the bot."""
        payment = {
            "currency": invoice["currency"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": invoice["payload"],
            "telegram_payment_charge_id": f"tg_{secrets.token_hex(6)}",
            "provider_payment_charge_id": f"pr_{secrets.token_hex(6)}",
        }
        return self.fake.user_message(user_id, None, successful_payment=payment)
