# The two commands of the README. Both bootstrap first (idempotent, seconds when done).
VENV ?= .venv
BIN := $(VENV)/bin
export KIVY_NO_ARGS := 1

.PHONY: demo test bootstrap lint typecheck pytest schemas clean

demo: bootstrap
	$(BIN)/kiosk demo

test: bootstrap lint typecheck pytest

bootstrap:
	@scripts/bootstrap.sh

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered

# Regenerate docs/schemas/ from the contract models (a test fails when they are stale).
schemas:
	$(BIN)/kiosk-central schemas export --out docs/schemas

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
