"""The floor bench/throughput.py compares every page with: a one-line Flask app, served by
gunicorn exactly as the app is (`gunicorn -w 2 -k sync bench.bare_app:app`, from the
project's root)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def bare() -> str:
    return "ok"
