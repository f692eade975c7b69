# The monitoring service: `docker compose up` runs `migrate` then `serve` (see compose.yaml).
# The compiled FIFO loop is built in the full image, which has a C compiler, and copied into the slim one
# (the service runs from /app, so the module goes beside its source); the build fails if it does not compile.
FROM python:3.11 AS compiled-fifo
WORKDIR /build
COPY pyproject.toml setup.py README.md ./
COPY actors/pnl_calculator/_fifo_match.c ./actors/pnl_calculator/
RUN pip install --no-cache-dir "setuptools>=68" && python setup.py build_ext --inplace

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 MONITOR_NO_BOOTSTRAP=1
WORKDIR /app
COPY pyproject.toml setup.py README.md run.py bootstrap.py ./
COPY actors ./actors
COPY --from=compiled-fifo /build/actors/pnl_calculator/_fifo_match.*.so ./actors/pnl_calculator/
COPY adapters ./adapters
COPY domain ./domain
COPY messages ./messages
COPY service ./service
COPY sql ./sql
COPY replay ./replay
RUN pip install --no-cache-dir .
COPY deploy/monitor.toml /etc/monitor/monitor.toml
RUN useradd --system monitor
USER monitor
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"
CMD ["python", "run.py", "serve", "--config", "/etc/monitor/monitor.toml"]
