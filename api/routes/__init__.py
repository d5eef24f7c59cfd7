"""One router per resource; :func:`ledger.api.app.create_app` includes them all."""
