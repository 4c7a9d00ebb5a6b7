"""The Mini App's page and files, shipped inside the package (bot/webapp/static/), served by
the bot itself: no CDN and no Node at run time."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).with_name("static")
# The page always asks again (a new release is seen at once); files are named by the page.
NO_CACHE = {"Cache-Control": "no-cache"}


def add_static_routes(app: web.Application, folder: Path = STATIC) -> None:
    root = folder.resolve()

    async def index(_request: web.Request) -> web.StreamResponse:
        page = root / "index.html"
        if not page.is_file():
            raise web.HTTPNotFound(text="The Mini App's page is not installed (bot/webapp/static)")
        return web.FileResponse(page, headers=NO_CACHE)

    async def asset(request: web.Request) -> web.StreamResponse:
        wanted = (root / request.match_info["path"]).resolve()
        # Nothing outside the folder, whatever the path says (../, symlinks).
        if not wanted.is_relative_to(root) or not wanted.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(wanted, headers=NO_CACHE)

    app.router.add_get("/app", index)
    app.router.add_get("/app/", index)
    app.router.add_get("/app/static/{path:.+}", asset)
