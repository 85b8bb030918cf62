"""WSGI entry point for gunicorn: ``gunicorn -c python:cds_service.gunicorn_conf cds_service.wsgi:app``."""
from cds_service.app import create_app

app = create_app()
