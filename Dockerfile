# The monitoring service: `docker compose up` runs `migrate` then `serve` (see compose.yaml).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 MONITOR_NO_BOOTSTRAP=1
WORKDIR /app
COPY pyproject.toml README.md run.py bootstrap.py ./
COPY actors ./actors
COPY adapters ./adapters
COPY messages ./messages
COPY service ./service
COPY sql ./sql
RUN pip install --no-cache-dir .
COPY deploy/monitor.toml /etc/monitor/monitor.toml
RUN useradd --system monitor
USER monitor
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"
CMD ["python", "run.py", "serve", "--config", "/etc/monitor/monitor.toml"]
