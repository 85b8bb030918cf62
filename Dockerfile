# PEComa pathway CDS Hooks service. Same commands as the README:
#   docker run -p 8080:8080 pecoma-cds pecoma-cds serve --demo      (demo, like ./scripts/serve-demo)
#   docker run -p 8080:8080 -e PECOMA_PATIENT_KEY_SECRET=... pecoma-cds   (production: pecoma-cds serve)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY pyproject.toml README.md ./
COPY cds_service ./cds_service
COPY fhir_mappings ./fhir_mappings
COPY pathway ./pathway
COPY cards ./cards

RUN pip install . \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin pecoma \
 && mkdir -p /app/var \
 && chown pecoma /app/var

USER pecoma

ENV PECOMA_BIND=0.0.0.0:8080 \
    PECOMA_DATABASE_URL=sqlite:////app/var/pecoma-cds.sqlite3

EXPOSE 8080
VOLUME ["/app/var"]

HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]

CMD ["pecoma-cds", "serve"]
