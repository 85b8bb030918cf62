"""gunicorn settings (production defaults), read from the environment.

``PECOMA_BIND`` (default 127.0.0.1:8080), ``PECOMA_WORKERS`` (default 2), ``PECOMA_THREADS``
(default 4: gthread workers, so a slow EHR FHIR server does not block a whole worker),
``PECOMA_TIMEOUT`` (seconds, default 30). Access logs are off: the app writes one JSON
line per request itself.

Metrics of all workers (``cds_service/metrics.py``): ``PROMETHEUS_MULTIPROC_DIR`` is set to a new
private directory when unset (or emptied of old values at start when set), and each exited
worker is marked dead so its live gauges go.
"""
import gc
import glob
import os
import tempfile

# Garbage collection (docs/performance.md). A hook request allocates tens of thousands of short-lived, acyclic
# objects (the parsed prefetch) that reference counting frees; with CPython's default thresholds (700, 10, 10)
# the cyclic collector ran dozens of times per request over the app's long-lived objects and cost more than
# parsing the body (medium request: orjson.loads mean 2.7 ms with the defaults, 0.7 ms with these).
GC_THRESHOLDS = (50_000, 20, 20)
gc.set_threshold(*GC_THRESHOLDS)


def prepare_metrics_dir() -> str:
    """Point PROMETHEUS_MULTIPROC_DIR at a directory for this master (created once per process)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        directory = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="pecoma-metrics-")
    os.makedirs(directory, exist_ok=True)
    return directory


prepare_metrics_dir()


def on_starting(server) -> None:  # master, before the app is loaded: values of an earlier run are stale
    for path in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(path)


def pre_fork(server, worker) -> None:  # master, app loaded (preload_app): its objects are never scanned again
    gc.freeze()


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


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
forwarded_allow_ips = os.environ.get("PECOMA_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
control_socket_disable = True  # gunicorn >= 25.1: no control socket (it wanted $HOME/.gunicorn; unused here)
