"""gunicorn settings (production defaults), read from the environment.

``PECOMA_BIND`` (default 127.0.0.1:8080), ``PECOMA_WORKERS`` (default 2), ``PECOMA_THREADS``
(default 4: gthread workers, so a slow EHR FHIR server does not block a whole worker),
``PECOMA_TIMEOUT`` (seconds, default 30). Access logs are off: the app writes one JSON
line per request itself.
"""
import os

bind = os.environ.get("PECOMA_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("PECOMA_WORKERS", "2"))
threads = int(os.environ.get("PECOMA_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("PECOMA_TIMEOUT", "30"))
graceful_timeout = 10
accesslog = None
errorlog = "-"
loglevel = "warning"
preload_app = True  # the app (and its database upgrade) is built once, in the master, before forking
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("PECOMA_FORWARDED_ALLOW_IPS", "127.0.0.1")
