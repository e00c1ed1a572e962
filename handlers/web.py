"""`python -m handlers.web`: the web process of the Procfile, listening on $PORT (default 8080)."""

from __future__ import annotations

import logging
import sys

from aiohttp import web

from bot.errors import ConfigurationError
from bot.settings import Settings
from handlers.app import create_app


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    try:
        app = create_app(settings)
    except ConfigurationError as exc:
        print(f"fluxops web: {exc.user_text()}", file=sys.stderr)
        return 2
    web.run_app(app, host="0.0.0.0", port=settings.port, access_log=None)  # noqa: S104 (a server's job)
    return 0


if __name__ == "__main__":
    sys.exit(main())
