"""The problem picture's JSON API (django-ninja router and schemas)."""
