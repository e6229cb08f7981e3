"""Thin blueprints: a view parses, asks `access`, calls one service, renders."""
