# Two commands on a fresh machine: `make run` and `make test`. Both set everything up themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

SIM_PORT ?= 8765
# The demo keeps its own database and files (demo/), apart from `make run`'s.
DEMO_ENV := DATABASE_URL=sqlite:///$(CURDIR)/demo/db.sqlite3 MEDIA_ROOT=demo/media SESSIONS_DIR=demo/sessions \
	LOG_DIR=demo/logs MARKETPLACE_BASE_URL=http://127.0.0.1:$(SIM_PORT) POSTING_DELAY_SECONDS=1,3 BROWSER_TIMEOUT_SECONDS=10 \
	AUTH_COOKIE_SECURE=false

.PHONY: run test demo setup browser

run: setup
	@echo ""
	@echo "Marketplace Poster on http://$(HOST):$(PORT)/ (the dashboard; log in as the operator)"
	@echo "  API docs (Swagger UI): http://$(HOST):$(PORT)/api/docs/"
	@echo "  OpenAPI schema:        http://$(HOST):$(PORT)/api/schema/"
	@echo "  Admin:                 http://$(HOST):$(PORT)/admin/"
	@echo "  Health:                http://$(HOST):$(PORT)/api/health/"
	@echo ""
	$(PY) -m uvicorn config.asgi:application --host $(HOST) --port $(PORT) --timeout-graceful-shutdown 5

test: setup
	$(PY) -m pytest

# The whole product against the local Marketplace simulator: a demo operator, an account with a
# valid simulator session, listings of which a few fail in different ways. Ctrl-C stops both.
demo: setup
	@mkdir -p demo && $(PY) -m simulator --port $(SIM_PORT) & sim=$$!; trap "kill $$sim 2>/dev/null" EXIT INT TERM; \
	$(DEMO_ENV) $(PY) manage.py demo_setup && \
	echo "Dashboard: http://$(HOST):$(PORT)/  (the simulator: http://127.0.0.1:$(SIM_PORT)/)" && \
	$(DEMO_ENV) $(PY) -m uvicorn config.asgi:application --host $(HOST) --port $(PORT) --timeout-graceful-shutdown 5

setup: $(VENV)/.installed .env browser
	@$(PY) manage.py migrate --noinput
	@$(PY) manage.py ensure_operator

# The virtualenv, reinstalled whenever requirements.txt changes.
$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# A secret key of its own for this checkout, written once; never committed.
.env:
	@echo "Writing .env with a new DJANGO_SECRET_KEY (.env.example lists every setting)"
	@umask 077 && printf '# Written by make. Every setting, with its default: .env.example\nDJANGO_SECRET_KEY=%s\n' \
		"$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env

# Chromium: BROWSER_EXECUTABLE, Playwright's own, or a system one; Debian's is installed when
# none is found and we are root. Otherwise say exactly what to run.
browser: $(VENV)/.installed
	@if ! $(PY) -m driver.executable >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "No Chromium found: installing Debian's chromium"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			$(PY) -m driver.executable; exit 1; \
		fi; \
	fi
	@echo "Chromium: $$($(PY) -m driver.executable)"
