# syntax=docker/dockerfile:1
# netzwerkbot: the image. Build: docker build -t netzwerkbot .   Run: see compose.yaml.
# Dependencies come from requirements.lock (pip-compile --generate-hashes): every package
# pinned and checked against its hash, the same pins CI installs and tests.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/netzwerkbot
COPY requirements.lock ./
RUN /opt/netzwerkbot/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY locales ./locales
# The project itself, without dependencies: they are all in the lock file above.
RUN /opt/netzwerkbot/bin/pip install --no-deps . \
    && /opt/netzwerkbot/bin/python -m compileall -q /opt/netzwerkbot

FROM python:3.11-slim-bookworm
# A fixed, unprivileged user; /data (the volume) is its only writable place.
RUN groupadd --system --gid 10001 netzwerkbot \
    && useradd --system --uid 10001 --gid netzwerkbot --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin netzwerkbot \
    && mkdir /data \
    && chown netzwerkbot:netzwerkbot /data \
    && chmod 0700 /data
COPY --from=build /opt/netzwerkbot /opt/netzwerkbot
ENV PATH=/opt/netzwerkbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NETZWERKBOT_DATABASE=/data/netzwerkbot.sqlite3 \
    NETZWERKBOT_HTTP=127.0.0.1:8080
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# The bot stops cleanly on SIGTERM (sends in flight finish); give it time: docker stop -t 60.
STOPSIGNAL SIGTERM
# /healthz on the listener (NETZWERKBOT_HTTP); change both together.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["netzwerkbot"]
CMD ["run"]
