"""The Mini App's front end without a browser (issue 12): every word it shows comes from the
catalogues, counts have their Russian forms, and nothing is loaded from elsewhere at run time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from ui.i18n import LOCALES

STATIC = Path(__file__).resolve().parents[1] / "bot" / "webapp" / "static"
SOURCES = sorted([*STATIC.glob("*.js"), *STATIC.glob("*.html"), *STATIC.glob("*.css")])
SCRIPTS = [path for path in SOURCES if path.suffix == ".js"]
# Ids the code builds from a value: t(`app-status-${b.status}`), t(`app-sort-${key}`).
BUILT = {
    "app-status": ("booked", "done", "no_show", "cancelled"),
    "app-sort": ("last_visit", "total", "predicted", "risk"),
}


def _app_texts(language: str) -> dict[str, str]:
    with (LOCALES / language / "LC_MESSAGES" / "webapp.po").open("rb") as po:
        return {m.id: m.string for m in read_po(po, locale=language) if m.id}


def _used(pattern: str) -> set[str]:
    return {key for path in SCRIPTS for key in re.findall(pattern, path.read_text())}


def test_the_files_are_there() -> None:
    names = {path.name for path in SOURCES}
    assert {"index.html", "app.css", "main.js", "telegram.js", "api.js", "owner.js"} <= names
    assert {"customer.js", "charts.js"} <= names


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_text_the_page_shows_is_in_the_catalogue(language: str) -> None:
    texts = _app_texts(language)
    plain = _used(r'\bt\("(app-[a-z0-9_-]+)"')
    counted = _used(r'\btn\("(app-[a-z0-9_-]+)"')
    built = _used(r"\bt\(`(app-[a-z0-9_-]+)-\$\{")
    assert plain and counted and built == set(BUILT)
    missing = {key for key in plain if key not in texts}
    missing |= {f"{key}-{form}" for key in counted for form in ("one", "few", "many")} - set(texts)
    missing |= {f"{key}-{value}" for key, values in BUILT.items() for value in values} - set(texts)
    assert missing == set()
    assert all(texts[key].strip() for key in texts), "an empty text"


def test_counts_have_their_forms_with_the_number() -> None:
    """Russian: 1 визит, 2 визита, 5 визитов; English: 1 visit, 2 visits (few = many)."""
    ru, en = _app_texts("ru"), _app_texts("en")
    for key in _used(r'\btn\("(app-[a-z0-9_-]+)"'):
        forms = [ru[f"{key}-{form}"] for form in ("one", "few", "many")]
        assert len(set(forms)) == 3, key
        english = [en[f"{key}-{form}"] for form in ("one", "few", "many")]
        assert english[0] != english[1] == english[2], key
        assert all("{n}" in form for form in forms + english), key


def test_no_words_in_the_code() -> None:
    """The page's language comes from the bot: no Cyrillic in the files, no text in the page."""
    for path in SOURCES:
        assert not re.search("[А-Яа-яЁё]", path.read_text()), path.name
    page = (STATIC / "index.html").read_text()
    assert "<title></title>" in page
    assert not re.search(r">\s*[A-Za-z][^<]*<", page)


def test_nothing_is_loaded_from_elsewhere() -> None:
    """No CDN, not even telegram.org's script: the only addresses are t.me links that the
    Telegram client opens (the referral share link) and SVG's namespace, a name."""
    for path in SOURCES:
        for url in re.findall(r"https?:(?://|\\/\\/)[^\s\"'`)]+", path.read_text()):
            if url == "http://www.w3.org/2000/svg":
                continue
            assert re.match(r"https:(//|\\/\\/)t\\?\.me", url), (path.name, url)
    page = (STATIC / "index.html").read_text()
    assert re.findall(r'(?:src|href)="([^"]+)"', page) == [
        "/app/static/app.css",
        "/app/static/main.js",
    ]
