# The bot in a slim image, run as a user without root rights.
#   docker build -t retention-bot .
#   docker run --env-file .env -v retention-data:/app/data retention-bot      # polling + SQLite
# docker-compose.yml runs it in webhook mode with PostgreSQL and Redis.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Installed as a package (site-packages), so /app holds only the data, not the code.
COPY pyproject.toml README.md /src/
COPY bot /src/bot
COPY handlers /src/handlers
COPY scheduler /src/scheduler
COPY services /src/services
COPY storage /src/storage
COPY ui /src/ui
RUN pip install "/src[redis]" && rm -rf /src

RUN useradd --create-home --uid 10001 app && mkdir -p /app/data && chown app:app /app/data
WORKDIR /app
USER app
VOLUME ["/app/data"]

# In a container the web server (webhook, /healthz) must listen on every interface.
ENV WEB_HOST=0.0.0.0 \
    WEB_PORT=8080
EXPOSE 8080

# Migrations first (also done at start, but a failure here is one clear line), then the bot;
# exec replaces the shell, so the bot gets `docker stop`'s SIGTERM and stops cleanly.
CMD ["sh", "-c", "python -m bot migrate && exec python -m bot run"]
