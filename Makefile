# The two commands of the README. Both bootstrap first (idempotent, seconds when done).
VENV ?= .venv
BIN := $(VENV)/bin
export KIVY_NO_ARGS := 1

.PHONY: demo test bootstrap lint typecheck pytest uitest uitest-portrait uitest-landscape schemas wheelhouse clean

demo: bootstrap
	$(BIN)/madoguchi-demo

test: bootstrap lint typecheck pytest uitest

bootstrap:
	@scripts/bootstrap.sh

# ruff, and the layers of pyproject.toml [tool.importlinter]: the kiosk never imports the central.
lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck:
	$(BIN)/mypy

# The 25 slowest tests are listed at the end: the suite should stay well under 20 minutes.
pytest:
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered --durations=25

# The Kivy screens: one window per process, so one run per layout (portrait and landscape), every
# language; screenshots of every screen go to build/ui-artifacts/<size>/. The two layouts run side by
# side (each uses one core), and each one's output is printed whole when it ends.
uitest:
	$(MAKE) --no-print-directory -j2 --output-sync=target uitest-portrait uitest-landscape

uitest-portrait:
	KIOSK_UI_TESTS=1 KIOSK_UI_ALL_LANGUAGES=1 KIOSK_SIZE=1080x1920 $(BIN)/python -m pytest -q -p no:cacheprovider tests/ui

uitest-landscape:
	KIOSK_UI_TESTS=1 KIOSK_UI_ALL_LANGUAGES=1 KIOSK_SIZE=1280x800 $(BIN)/python -m pytest -q -p no:cacheprovider tests/ui

# Regenerate docs/schemas/ from the contract models (a test fails when they are stale).
schemas:
	$(BIN)/kiosk-central schemas export --out docs/schemas

# The kiosk wheelhouse in dist/wheelhouse: the app's wheel + cp313/aarch64 or pure wheels of madoguchi[kiosk],
# SHA256SUMS, constraints.txt, checked to install offline. Needs PyPI or a mirror (PIP_INDEX_URL); pyscard has
# no aarch64 wheel on PyPI: KIOSK_EXTRA_WHEELS=<folder with the arm64 builder's wheel> (docs/security.md).
wheelhouse: bootstrap
	PYTHON=$(abspath $(BIN))/python provisioning/image/wheelhouse.sh dist/wheelhouse

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
