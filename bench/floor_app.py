"""The floor of the service benchmark: a bare Flask app that only parses the request body and returns one fixed card.

Served by gunicorn with the service's own settings (``cds_service/gunicorn_conf.py``), it measures what the HTTP
stack and a plain JSON parse cost, so the service's numbers can be read as ratios to it. ``BENCH_FLOOR_PARSER``:
``json`` (default: Flask's ``request.get_json()``, the stdlib parser a bare Flask app uses) or ``orjson``.

    PECOMA_BIND=127.0.0.1:8090 gunicorn -c python:cds_service.gunicorn_conf bench.floor_app:app
"""
from __future__ import annotations

import os

import orjson
from flask import Flask, Response, request

app = Flask(__name__)
PARSER = os.environ.get("BENCH_FLOOR_PARSER", "json")
CARD = orjson.dumps({"cards": [{"summary": "Floor: request parsed", "indicator": "info", "source": {"label": "bench floor"}}]})


@app.post("/cds-services/<service_id>")
def hook(service_id: str) -> Response:
    body = orjson.loads(request.get_data()) if PARSER == "orjson" else request.get_json()
    if not isinstance(body, dict) or "hookInstance" not in body:
        return Response(b'{"error": "not a hook request"}', status=400, mimetype="application/json")
    return Response(CARD, mimetype="application/json")
