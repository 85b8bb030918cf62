"""JSON-lines logging: one object per line (time, level, event, plus the fields given).

Call ``log_event(logger, "hook_response", hookInstance=..., status=...)``. Only pass
operational fields: never tokens, patient ids or resource content (README §Logs).
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

LOGGER_NAME = "pecoma_cds"
_FIELDS = "_pecoma_fields"


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "event": getattr(record, "event", None) or record.getMessage(),
        }
        entry.update(getattr(record, _FIELDS, {}))
        if record.exc_info and record.exc_info[0] is not None:
            # the exception type and where it happened, never its message (it may quote patient data)
            exc_type, _, tb = record.exc_info
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            entry["exception"] = exc_type.__name__
            if tb is not None:
                entry["at"] = f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str = "INFO") -> logging.Logger:
    """Send the service's log to stderr as JSON lines (idempotent)."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h.formatter, JsonLinesFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLinesFormatter())
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger


def log_event(event: str, level: int = logging.INFO, exc_info: bool = False, **fields: Any) -> None:
    logging.getLogger(LOGGER_NAME).log(level, event, exc_info=exc_info, extra={"event": event, _FIELDS: fields})
