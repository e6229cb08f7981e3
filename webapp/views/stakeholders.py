"""The host region's stakeholders, whom an event's hosting beachhead invites to its
matchmaking through a one-time link."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("stakeholders", __name__)
