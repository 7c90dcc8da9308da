"""Jinja2 prompt templates and few-shot examples, shipped as package data."""
