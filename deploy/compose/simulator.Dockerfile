# The TikTok Shop simulator, for the compose file's `simulator` profile (build context: the
# repository; simulator.Dockerfile.dockerignore picks what it needs, since the repository's
# .dockerignore leaves the simulator out of the service's image).
FROM python:3.11-slim
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
COPY requirements-runtime.lock /tmp/requirements-runtime.lock
# The simulator needs only packages the service already pins (starlette, uvicorn, pydantic).
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements-runtime.lock
RUN useradd --system --uid 10002 --home /app simulator
WORKDIR /app
COPY simulator/ simulator/
USER simulator
EXPOSE 8900
ENTRYPOINT ["python", "-m", "simulator"]
CMD ["--host", "0.0.0.0", "--port", "8900"]
