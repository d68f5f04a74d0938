# The two set-up commands of the README: `make demo` and `make test`. Everything else is optional.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint check-rules clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/vigil demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .

check-rules: $(STAMP)
	$(VENV)/bin/vigil check rules/

test: $(STAMP) lint check-rules
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
include deploy/Makefile.kafka
