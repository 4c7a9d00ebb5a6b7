"""A customer's first conversation: /start → phone → birthday → consent to offers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove

from bot.config import Settings
from handlers.filters import ANSWER
from handlers.once import ONCE_PER_MESSAGE
from services.birthday_gift import too_close
from services.customers import CustomerService, TelegramPerson
from services.dto import CustomerCard
from services.owner_notices import OwnerNotices
from services.parsing import parse_birthday
from ui import keyboards
from ui.callbacks import ConsentChoice
from ui.i18n import tr


class Registration(StatesGroup):
    phone = State()
    birthday = State()
    consent = State()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start_handler, CommandStart(), StateFilter("*"))
    router.message.register(process_contact, Registration.phone, F.contact)
    router.message.register(skip_phone, Registration.phone, F.text.func(_is_skip))
    router.message.register(ask_for_button, Registration.phone)
    router.message.register(skip_birthday, Registration.birthday, F.text.func(_is_skip))
    router.message.register(process_birthday, Registration.birthday, ANSWER)
    router.message.register(ask_for_text, Registration.birthday)
    router.callback_query.register(process_consent, ConsentChoice.filter(), flags=ONCE_PER_MESSAGE)
    router.message.register(ask_for_consent_button, Registration.consent)
    return router


def _is_skip(text: str | None) -> bool:
    return text is not None and text.strip().casefold() in {
        tr("button-skip").casefold(),
        "skip",
        "пропустить",
    }


def person_of(message: Message | CallbackQuery) -> TelegramPerson:
    user = message.from_user
    assert user is not None  # private-chat updates always have a sender
    return TelegramPerson(
        telegram_id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language=user.language_code,
    )


async def start_handler(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    customers: CustomerService,
    clock: Callable[[], datetime],
) -> None:
    result = await customers.start(person_of(message), command.args, clock())
    if result.customer.registered:
        await state.clear()
        await message.answer(
            tr("start-welcome-back", name=result.customer.name or ""),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    await state.set_state(Registration.phone)
    await message.answer(tr("start-greeting"), reply_markup=keyboards.share_phone())


async def process_contact(message: Message, state: FSMContext, customers: CustomerService) -> None:
    contact = message.contact
    assert contact is not None and message.from_user is not None
    if contact.user_id != message.from_user.id:
        await message.answer(tr("error-contact-not-own"), reply_markup=keyboards.share_phone())
        return
    await customers.set_phone(message.from_user.id, contact.phone_number)
    await _ask_birthday(message, state)


async def skip_phone(message: Message, state: FSMContext) -> None:
    await _ask_birthday(message, state)


async def ask_for_button(message: Message) -> None:
    await message.answer(tr("error-phone-use-button"), reply_markup=keyboards.share_phone())


async def _ask_birthday(message: Message, state: FSMContext) -> None:
    await state.set_state(Registration.birthday)
    # No gift is promised here: it needs consent and enough notice (see services/birthday_gift).
    await message.answer(tr("kw-ask-birthday"), reply_markup=keyboards.skip_only())


async def process_birthday(
    message: Message,
    state: FSMContext,
    customers: CustomerService,
    clock: Callable[[], datetime],
    settings: Settings,
) -> None:
    assert message.text is not None and message.from_user is not None
    now = clock()
    birthday = parse_birthday(message.text, today=now.astimezone(settings.zone).date())
    await customers.set_birthday(message.from_user.id, birthday, now)
    # Too close to the day earns no gift this year: say so now rather than stay silent.
    late = too_close(now.astimezone(settings.zone).date(), birthday.day, birthday.month)
    await message.answer(
        tr("kw-birthday-saved-late" if late else "birthday-saved", birthday=birthday.as_text()),
        reply_markup=ReplyKeyboardRemove(),
    )
    await _ask_consent(message, state)


async def skip_birthday(message: Message, state: FSMContext) -> None:
    await message.answer(tr("birthday-skipped"), reply_markup=ReplyKeyboardRemove())
    await _ask_consent(message, state)


async def ask_for_text(message: Message) -> None:
    await message.answer(tr("error-birthday-format"))


async def _ask_consent(message: Message, state: FSMContext) -> None:
    await state.set_state(Registration.consent)
    await message.answer(tr("ask-consent"), reply_markup=keyboards.consent())


async def ask_for_consent_button(message: Message) -> None:
    await message.answer(tr("error-consent-use-button"), reply_markup=keyboards.consent())


async def process_consent(
    query: CallbackQuery,
    callback_data: ConsentChoice,
    state: FSMContext,
    customers: CustomerService,
    clock: Callable[[], datetime],
    settings: Settings,
    owner_notices: OwnerNotices,
) -> None:
    now = clock()
    result = await customers.finish_registration(
        person_of(query).telegram_id, callback_data.agree, now
    )
    await state.clear()
    await query.answer()
    if result.completed_now:
        done = tr("registered-consent-yes" if callback_data.agree else "registered-consent-no")
    else:  # an old consent button pressed by someone long registered: say what changed
        done = tr("kw-offers-resumed" if callback_data.agree else "kw-offers-stopped")
    if isinstance(query.message, Message):
        await query.message.edit_text(done)
    if result.completed_now:
        await _tell_owners(owner_notices, result.customer, settings.zone, now)


async def _tell_owners(
    notices: OwnerNotices, card: CustomerCard, zone: ZoneInfo, now: datetime
) -> None:
    """Through the outbox, in each owner's language; a late birthday offers the gift anyway."""
    birthday = card.birthday
    today = now.astimezone(zone).date()
    # No gift by the rule for a birthday entered too close to it: the owner decides.
    late = bool(card.consent and birthday and too_close(today, birthday.day, birthday.month))
    await notices.new_customer(card, late, now)
