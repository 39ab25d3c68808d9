"""What a Galaxy user and a docsite see of every module: the standard attributes (check_mode, diff_mode,
platform, action_group), action group membership as meta/runtime.yml declares it, and the docsite's
extra docs pointing at pages that exist."""

import ast
import hashlib
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = os.path.join(ROOT, "plugins", "modules")


def module_names():
    return sorted(name[:-3] for name in os.listdir(MODULES) if name.endswith(".py") and not name.startswith("_"))


def documentation(name):
    """The module's DOCUMENTATION, read with ast (importing the module would need Ansible's machinery)."""
    with open(os.path.join(MODULES, name + ".py"), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["DOCUMENTATION"]:
            return yaml.safe_load(ast.literal_eval(node.value))
    raise AssertionError("%s has no DOCUMENTATION" % name)


def action_groups():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle).get("action_groups", {})


@pytest.mark.parametrize("name", module_names())
def test_module_has_the_standard_attributes(name):
    attributes = documentation(name).get("attributes", {})
    for attribute in ("check_mode", "diff_mode", "platform", "action_group"):
        assert attribute in attributes, "%s: attributes.%s is missing" % (name, attribute)
        assert attributes[attribute]["support"] in ("full", "partial", "none", "N/A"), (name, attribute)
        assert attributes[attribute].get("description"), (name, attribute)
    assert attributes["platform"].get("platforms"), "%s: attributes.platform.platforms is missing" % name
    groups = sorted("peerwarden.bgp." + group for group, members in action_groups().items() if name in members)
    assert groups, "%s is in no action group of meta/runtime.yml" % name
    assert sorted(attributes["action_group"].get("membership", [])) == groups, name


def test_every_action_group_member_is_a_module():
    for group, members in action_groups().items():
        for member in members:
            assert member in module_names(), "action group %s names %s, which is not a module" % (group, member)


def test_extra_docs_point_at_pages_that_exist():
    with open(os.path.join(ROOT, "docs", "docsite", "extra-docs.yml"), encoding="utf-8") as handle:
        extra = yaml.safe_load(handle)
    pages = [entry for section in extra["sections"] for entry in section["toctree"]]
    assert pages
    for page in pages:
        path = os.path.join(ROOT, "docs", "docsite", "rst", page + ".rst")
        assert os.path.isfile(path), page
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        assert text.startswith(".. _ansible_collections.peerwarden.bgp.docsite.%s:" % page)
        # written from a Markdown guide by docs/docsite/build_rst.py: that guide has not changed since
        (line,) = [line for line in text.splitlines() if line.startswith(".. source: docs/")]
        source, digest = line[len(".. source: ") :].split(" sha256=")
        with open(os.path.join(ROOT, source), "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == digest, (
                "%s changed: run python docs/docsite/build_rst.py (pandoc) to write %s.rst again" % (source, page)
            )
    with open(os.path.join(ROOT, "docs", "docsite", "links.yml"), encoding="utf-8") as handle:
        links = yaml.safe_load(handle)
    assert links["edit_on_github"]["repository"] and links["extra_links"]
