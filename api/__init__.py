"""The REST API: rest-sessions' routes under /api/v1 on the 4.0.0 layout, with keys.

`api.asgi:app` serves it (uvicorn); `api.models.ApiKey` and `manage.py create_api_key` are its
keys; kills are written to the dashboard's audit log.
"""
