"""Spiders: parse only and yield typed items (crawler/items.py); the pipelines do the rest."""
