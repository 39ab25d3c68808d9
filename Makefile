# peerwarden: `make demo` runs the main job on bundled data; `make test` runs every test.
# Both work on a fresh Debian 12 machine as root: they install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
COLLECTION_LINK := collections/ansible_collections/peerwarden/bgp
SANITY_ROOT := $(or $(TMPDIR),/tmp)/peerwarden-sanity
SANITY_TREE := $(SANITY_ROOT)/ansible_collections/peerwarden/bgp
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/collections
export ANSIBLE_NOCOLOR := 1
APT_PACKAGES := frr frr-rpki-rtrlib bird2 openssh-server openssh-client postgresql stayrtr rpki-client bgpdump openssl util-linux chromium nftables ulogd2 iproute2 jq

.PHONY: demo test system-packages venv collection sanity units runner-tests runner-lint runner-schema lab-tests lint bench clean

# The main job on bundled data: scan, name the networks, write each one email (as .eml files).
# Run it twice: the second run sends nothing and says why.
demo: venv collection
	$(BIN)/ansible-playbook -i demo/inventory.yml playbooks/notify_unsolicited.yml \
	  -e peerwarden_report_dir=$(CURDIR)/demo-output -e peerwarden_outbox=$(CURDIR)/demo-output/outbox \
	  -e peerwarden_store=$(CURDIR)/demo-output/notify.sqlite

test: system-packages venv collection sanity units runner-tests runner-lint lab-tests lint

# Real daemons for the lab tests (Debian package names); installs only what is missing.
system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt test-requirements.txt runner/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -r test-requirements.txt
	$(BIN)/pip install -q -e runner
	touch $@

# ansible-playbook and the tests import the collection from collections/ (a link to this tree).
collection: $(COLLECTION_LINK)
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

# ansible-test needs a real tree at .../ansible_collections/peerwarden/bgp (a link is resolved away),
# outside this git checkout (inside it, ansible-test would list files with git and find none there).
# The copy holds the files git tracks or would track, without runner/: the daemon is its own Python
# package (shipped in the Galaxy build as source for the runner role, not Ansible content), tested by
# runner-tests.
sanity: venv
	rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_TREE)
	git ls-files -z --cached --others --exclude-standard -- . ':!runner' \
	  | xargs -0 -I{} sh -c 'test -e "{}" && echo "{}"' | tar -cf - -T - | tar -xf - -C $(SANITY_TREE)
	$(BIN)/python tests/sanity/offline_get_pip.py
	cd $(SANITY_TREE) && PATH=$(abspath $(BIN)):$$PATH $(abspath $(BIN))/ansible-test sanity --venv --python 3.11 --color no

units: venv collection
	$(BIN)/python -m pytest tests/unit -q

# the runner's own tests (codec, RPKI, stages); its lab tests with BIRD and FRR are in lab-tests
runner-tests: venv
	$(BIN)/python -m pytest runner/tests -q -p no:cacheprovider

# the runner's lint gate: ruff (lint and format) and mypy, configured in runner/pyproject.toml
runner-lint: venv
	cd runner && $(abspath $(BIN))/ruff check . && $(abspath $(BIN))/ruff format --check . && $(abspath $(BIN))/mypy

# the runner's JSON Schema the role checks its variables against (tests/unit/test_runner_schema_file.py keeps it equal)
runner-schema: venv
	PYTHONPATH=runner/src $(BIN)/python -c "from peerwarden_runner.cli import main; main(['schema'])" > roles/runner/files/runner_schema.json

lab-tests: venv collection
	$(BIN)/python -m pytest tests/lab tests/integration -q

lint: venv collection
	$(BIN)/ruff check tests bench
	$(BIN)/ruff format --check tests bench
	PATH=$(abspath $(BIN)):$$PATH ansible-lint --offline

bench: venv collection
	$(BIN)/python bench/log_scan.py
	$(BIN)/python bench/resolve.py
	$(BIN)/python bench/rpki_validate.py
	$(BIN)/python bench/pipeline_profile.py
	$(BIN)/python bench/log_lines.py
	$(BIN)/python bench/revalidate.py

clean:
	rm -rf $(SANITY_ROOT) collections tests/output demo-output
