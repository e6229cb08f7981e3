"""Matchmaking in the API: participants' profiles, their opportunities and meeting
requests, under the same scopes as the pages."""

from __future__ import annotations
