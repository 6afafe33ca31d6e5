# The service's image: one image, three commands (`ingress`, `worker`, `all`).
#   docker build -t tiktok-shop-channel .
#   docker run -e KAFKA_BOOTSTRAP_SERVERS=... -e MONGODB_URI=... tiktok-shop-channel worker
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements-runtime.lock /tmp/requirements-runtime.lock
# Pinned with hashes: the image holds exactly what the lock says.
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements-runtime.lock

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home /app service
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY contracts/ contracts/
COPY service/ service/
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    LOG_JSON=true INGRESS_HOST=0.0.0.0 ADMIN_HOST=0.0.0.0
USER service
EXPOSE 8080 8081
# Liveness: /healthz on the port of the part that runs; readiness: /readyz.
ENTRYPOINT ["python", "-m", "service"]
CMD ["all"]
