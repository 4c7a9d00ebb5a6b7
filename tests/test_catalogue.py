"""The services catalogue, managed in chat."""

from __future__ import annotations

from services.dto import ServiceItem
from tests.conftest import RunningBot


async def services(app: RunningBot) -> list[ServiceItem]:
    async with app.db.reading() as repos:
        return [ServiceItem.of(row) for row in await repos.catalogue.all()]


async def test_add_edit_and_archive_a_service_by_buttons(app: RunningBot) -> None:
    owner = app.owner
    await owner.send("/services")
    assert "No services yet" in (owner.last_text or "")
    await owner.click("Add a service")
    await owner.send("Gel manicure")
    await owner.send("2 500")
    await owner.send("21")
    await owner.send("90")
    card = owner.last_text or ""
    assert "Gel manicure" in card and "21 days" in card and "90 min" in card

    await owner.click("Price")
    await owner.send("2700")
    await owner.click("Cycle")
    await owner.send("-")
    await owner.click("Duration")
    await owner.send("120")
    [item] = await services(app)
    assert (item.price, item.cycle_days, item.duration_minutes) == (270000, None, 120)

    await owner.click("Archive")
    [item] = await services(app)
    assert item.archived
    await owner.send("/services")
    assert "No services yet" in (owner.last_text or "")  # archived ones leave the list
    assert "Archived" in owner.alerts[-1]


async def test_one_line_add_and_its_bad_input(app: RunningBot) -> None:
    owner = app.owner
    for command, expected in [
        ("/addservice Haircut", "Write it like this"),
        ("/addservice Haircut; abc", "I need an amount"),
        ("/addservice Haircut; 1500; 400", "from 1 to 365"),
        ("/addservice Haircut; 1500; 30; 2", "from 5 to 720"),
        ("/addservice ; 1500", "needs letters"),
        ("/addservice " + "H" * 4000 + "; 1500", "at most 100"),
        ("/addservice a;b;c;d;e", "Write it like this"),
    ]:
        await owner.send(command)
        assert expected in (owner.last_text or ""), command
    assert await services(app) == []
    await owner.send("/addservice Haircut; 1500; 30; 45")
    await owner.send("/addservice haircut; 900")
    assert "already a service" in (owner.last_text or "")
    [item] = await services(app)
    assert (item.name, item.price, item.cycle_days, item.duration_minutes) == (
        "Haircut",
        150000,
        30,
        45,
    )


async def test_guided_add_bad_values_keep_asking(app: RunningBot) -> None:
    owner = app.owner
    await owner.send("/addservice")
    await owner.send("Coffee")
    await owner.send("free")
    assert "I need an amount" in (owner.last_text or "")
    await owner.send("250")
    await owner.send("every week")
    assert "from 1 to 365" in (owner.last_text or "")
    await owner.send("нет")
    await owner.send("0")
    assert "from 5 to 720" in (owner.last_text or "")
    await owner.send("10")
    [item] = await services(app)
    assert (item.name, item.price, item.cycle_days, item.duration_minutes) == (
        "Coffee",
        25000,
        None,
        10,
    )


async def test_owner_pairs_drive_the_cross_sell(app: RunningBot) -> None:
    owner = app.owner
    await owner.send("/addservice Manicure; 2000; 21; 60")
    await owner.send("/addservice Cuticle oil; 500")
    for command, expected in [
        ("/pair Manicure", "Write it like this"),
        ("/pair Manicure > Manicure", "after itself"),
        ("/pair Manicure > Lipstick", "No such service"),
        ("/pair " + "M" * 4000 + " > Manicure", "No such service"),
    ]:
        await owner.send(command)
        assert expected in (owner.last_text or ""), command
    await owner.send("/pair manicure > cuticle oil")
    assert "will suggest «Cuticle oil»" in (owner.last_text or "")
    async with app.db.reading() as repos:
        assert await repos.retention.owner_cross_sell(1) == "Cuticle oil"
    await owner.send("/pair Manicure > -")
    async with app.db.reading() as repos:
        assert await repos.retention.owner_cross_sell(1) is None
