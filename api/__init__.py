"""The HTTP API (FastAPI): ``create_app`` builds it, ``app_from_env`` is what uvicorn runs."""
