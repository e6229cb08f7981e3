"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`.

BEACHHEAD_CONFIG chooses the configuration (development by default, production on servers).
"""

from webapp import create_app

app = create_app()
