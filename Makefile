# One command to run the bot, one to run the tests; both build .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install run test lint migrate bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,redis]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m bot run

migrate: install
	$(PY) -m bot migrate

# Three processes (pytest-xdist) on two cores: while one test waits (a child process, Telegram's
# pace) the others use the CPU. Every test has its own tmp_path, SQLite file, PostgreSQL schema
# and Redis keys, so they do not meet.
test: install
	$(PY) -m pytest -q -n 3

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: install
	$(PY) -m pip install --quiet -e '.[dev,redis,bench]'
	$(PY) benchmarks/bench_delivery.py
	$(PY) benchmarks/bench_stats.py
	$(PY) benchmarks/bench_clv.py
	$(PY) benchmarks/bench_handlers.py

clean:
	rm -rf $(VENV)
