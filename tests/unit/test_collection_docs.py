"""What a Galaxy user and a docsite see of every module: the standard attributes (check_mode, diff_mode,
platform, action_group), action group membership as meta/runtime.yml declares it, and the docsite's
extra docs pointing at pages that exist."""

import ast
import hashlib
import os

import pytest
import yaml
from ansible.utils.plugin_docs import add_fragments

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = os.path.join(ROOT, "plugins", "modules")


def module_names():
    return sorted(name[:-3] for name in os.listdir(MODULES) if name.endswith(".py") and not name.startswith("_"))


def literal_strings(path, scope=None):
    """The string constants a file assigns at the top (or in class scope), read with ast: importing a plugin
    would need Ansible's collection finder, a global import hook other tests do not expect."""
    with open(path, encoding="utf-8") as handle:
        body = ast.parse(handle.read()).body
    if scope:
        (body,) = [node.body for node in body if isinstance(node, ast.ClassDef) and node.name == scope]
    return dict(
        (node.targets[0].id, ast.literal_eval(node.value))
        for node in body
        if isinstance(node, ast.Assign)
        and isinstance(getattr(node.targets[0], "id", None), str)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


class DocFragments:
    """What ansible-doc's add_fragments asks of its fragment loader, answered from plugins/doc_fragments."""

    PREFIX = "peerwarden.bgp."

    def get(self, name):
        path = os.path.join(ROOT, "plugins", "doc_fragments", name[len(self.PREFIX) :] + ".py")
        if not name.startswith(self.PREFIX) or not os.path.isfile(path):
            return None
        return type("ModuleDocFragment", (), dict(literal_strings(path, "ModuleDocFragment"), ansible_name=name))


def documentation(name):
    """The module's DOCUMENTATION with its doc fragments merged by Ansible's own add_fragments, as ansible-doc
    and the docsite see it."""
    path = os.path.join(MODULES, name + ".py")
    doc = literal_strings(path).get("DOCUMENTATION")
    assert doc, "%s has no DOCUMENTATION" % name
    doc = yaml.safe_load(doc)
    add_fragments(doc, path, fragment_loader=DocFragments(), is_module=True)
    return doc


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
