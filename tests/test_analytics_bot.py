"""/stats and its views end to end: the real bot polling the fake Telegram server."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from storage.models import Customer, OutboxMessage, Purchase, ShopSetting
from tests.conftest import RunningBot


async def seed(app: RunningBot) -> dict[str, int]:
    """A late regular (every 10 days, last seen 30 days ago), a fresh one, two small ones."""
    now = app.clock.now
    ids: dict[str, int] = {}
    async with app.db.transaction() as repos:
        for i, name in enumerate(("Lena", "Olga", "Ivan", "Petr")):
            customer = Customer(
                name=name, telegram_id=9000 + i, created_at=now - timedelta(days=300)
            )
            repos.session.add(customer)
            await repos.session.flush()
            ids[name] = customer.id
        sales = [
            *[(ids["Lena"], d, 500000) for d in (50, 40, 30)],
            *[(ids["Olga"], d, 500000) for d in (22, 12, 2)],
            *[(ids["Ivan"], d, 1000) for d in (90, 80)],
            (ids["Petr"], 200, 10000),
        ]
        repos.session.add_all(
            Purchase(
                customer_id=c,
                amount=a,
                purchased_at=now - timedelta(days=d),
                created_at=now - timedelta(days=d),
            )
            for c, d, a in sales
        )
    return ids


async def outbox_rows(app: RunningBot) -> int:
    async with app.db.reading() as repos:
        return int(await repos.session.scalar(select(func.count(OutboxMessage.id))) or 0)


async def cac_rows(app: RunningBot) -> dict[str, str]:
    async with app.db.reading() as repos:
        rows = await repos.session.scalars(select(ShopSetting))
        return {r.key: r.value for r in rows if "cac" in r.key or r.key == "acquisition_cost"}


async def test_stats_without_purchases_says_so(app: RunningBot) -> None:
    replies = await app.owner.send("/stats")
    assert len(replies) == 1
    assert "No purchases yet" in replies[0]["text"]
    assert "photo" not in replies[0]


async def test_stats_screen_chart_and_views(app: RunningBot) -> None:
    ids = await seed(app)
    owner = app.owner
    replies = await owner.send("/stats")
    photos = [m for m in replies if "photo" in m]
    texts = [m for m in replies if m.get("text")]
    assert len(photos) == 1 and len(texts) == 1
    assert app.fake.files[photos[0]["photo"][-1]["file_id"]].data.startswith(b"\x89PNG")
    screen = texts[0]
    text = screen["text"]
    assert "Last 90 days: 8 purchases = 3 first (38\u00a0%) + 5 repeat (62\u00a0%)" in text
    assert "Purchases per customer: 2.25" in text
    assert "Predicted CLV: too little data" in text
    # one LTV, with its definition (issue 14: two unlabelled LTVs from the same inputs)
    assert text.count("LTV") == 1 and "CLV by formula" not in text
    assert "Customer value (LTV): " in text and "× margin " in text
    buttons = [b["text"] for b in owner.inline_buttons(screen)]
    assert buttons == ["ABC", "Cohorts", "Predicted value", "At risk", "Campaigns"]

    abc = await owner.click("ABC", message=screen)
    assert "ABC by revenue" in abc[-1]["text"]
    assert f"#{ids['Lena']} Lena" in abc[-1]["text"]

    cohorts = await owner.click("Cohorts", message=screen)
    assert any("photo" in m for m in cohorts)
    assert "Cohorts by month of first purchase" in cohorts[-1]["text"]

    predicted = await owner.click("Predicted value", message=screen)
    assert "too little data" in predicted[-1]["text"]

    campaigns = await owner.click("Campaigns", message=screen)
    assert "Rebooking: sent 0" in campaigns[-1]["text"]

    risk = await owner.click("At risk", message=screen)
    assert f"#{ids['Lena']} Lena" in risk[-1]["text"]
    # too little data for the model: the screen names the cycle rule and shows no P(active)
    assert "Rule: more than twice the customer's usual cycle" in risk[-1]["text"]
    assert "P active" not in risk[-1]["text"]
    assert [b["text"] for b in owner.inline_buttons(risk[-1])] == ["💌 Win back Lena"]
    await owner.click("Win back Lena", message=risk[-1])
    assert "queued" in owner.alerts[-1]
    await owner.click("Win back Lena", message=risk[-1])
    assert "Already done" in owner.alerts[-1]  # the second press changes nothing
    assert await outbox_rows(app) == 1


async def test_stats_in_russian_by_default(app: RunningBot) -> None:
    await seed(app)
    owner = app.fake.user(1000, language_code="de")
    replies = await owner.send("/stats")
    assert "Последние 90 дней" in replies[-1]["text"]


async def test_stats_with_a_bad_date(app: RunningBot) -> None:
    await seed(app)
    for args, answer in [
        ("2026-13-01", "There is no such date"),
        ("yesterdayish", "date"),
        ("2030-01-01", "in the future"),
    ]:
        replies = await app.owner.send(f"/stats {args}")
        assert len(replies) == 1, args
        assert answer in replies[0]["text"], args
        assert "photo" not in replies[0]


async def test_stats_as_of_a_past_day(app: RunningBot) -> None:
    await seed(app)
    day = (app.clock.now - timedelta(days=60)).date().isoformat()
    replies = await app.owner.send(f"/stats {day}")
    assert "Last 90 days: 2 purchases = 1 first (50\u00a0%)" in replies[-1]["text"]


async def test_cac_command(app: RunningBot) -> None:
    owner = app.owner
    replies = await owner.send("/cac")
    assert "/cac <source> <amount>" in replies[-1]["text"]
    await owner.send("/cac instagram 500")
    await owner.send("/cac 300")
    assert await cac_rows(app) == {"cac:instagram": "50000", "acquisition_cost": "30000"}
    replies = await owner.send("/cac")
    assert "instagram 500" in replies[-1]["text"]


async def test_cac_bad_input_writes_nothing(app: RunningBot) -> None:
    owner = app.owner
    await owner.send("/cac instagram 500")
    before = await cac_rows(app)
    for line, answer in [
        ("/cac инста 500", "one word of Latin letters"),
        ("/cac instagram five", "I need an amount"),
        ("/cac instagram -5", ""),
        ("/cac abc", "/cac <source> <amount>"),
        ("/cac in sta 5", "I need an amount"),
    ]:
        replies = await owner.send(line)
        assert len(replies) == 1, line
        assert answer in replies[0]["text"], line
    assert await cac_rows(app) == before
