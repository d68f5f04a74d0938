# The set-up commands of the README: `make serve`, `make demo` and `make test`. Everything else
# is optional.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: serve demo demo-serve test lint check-rules browser-deps clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/vigil serve $(SERVE_ARGS)

demo: $(STAMP)
	$(VENV)/bin/vigil demo

demo-serve: $(STAMP)
	$(VENV)/bin/vigil demo --serve

# Headless Chromium for tests/browser (Debian's package; Playwright never downloads a browser).
browser-deps:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		apt-get install -y -qq chromium; } || \
		echo "browser-deps: could not install chromium (not root?); browser tests will skip"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy engine
	$(VENV)/bin/mypy --strict connectors

check-rules: $(STAMP)
	$(VENV)/bin/vigil check rules/ deploy/worker.yaml deploy/k8s/configmap.yaml

test: $(STAMP) lint check-rules browser-deps
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
include deploy/Makefile.kafka
