#!/usr/bin/env python3
"""The peer of `cargo bench --bench peer`: deploygen's own templates (templates/), rendered by
Python + Jinja2 with the contexts deploygen's planner built, written as a tree.

Usage: render.py DUMP TEMPLATES OUT

DUMP (JSON, written by benches/peer.rs) holds every template render of one deploygen run (the
template and its context) and, for each file of the tree, how it is made: the text around one
render (a generated-file header, the README's closing words), or the whole text for the few
files no template makes (JSON Schemas, image lists). The peer renders every template with
Jinja2, joins the files, hashes them into the ownership manifest, and writes them all.

It is handed the plan, so it does less than deploygen does (no matrix read, no validation,
no planning, no self-check, no atomic write): its time is a lower bound for any peer that
renders the same tree, and deploygen's speed-up over it is a lower bound too.

The filters and escaping follow deploygen's engine (src/render/engine.rs): values printed into
a `.yaml.j2` or `.json.j2` template are JSON-escaped (minijinja's JSON auto-escape); `toyaml`
emits YAML as serde_yaml does (libyaml's emitter, unlimited width, Unicode, strings that would
read back as another type single-quoted); `comment` and `md` as in Rust.
"""
import hashlib
import json
import os
import re
import sys

import jinja2
import yaml
from markupsafe import Markup


# --- toyaml: serde_yaml's scalar rules ------------------------------------------------------
# serde_yaml quotes a string when reading it plain would give null, a bool, an int or a float
# (YAML 1.2 core, as serde_yaml reads: `yes` and `on` stay strings). A resolver with exactly
# those rules makes PyYAML's emitter (a port of libyaml's) choose the same styles.
NULL = re.compile(r'^(?:~|null|Null|NULL)$')
BOOL = re.compile(r'^(?:true|True|TRUE|false|False|FALSE)$')
INT = re.compile(r'^[-+]?(?:[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+)$')
FLOAT = re.compile(
    r'^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?'
    r'|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$')


# libyaml's own emitter where PyYAML has it (as serde_yaml has): the peer at its fastest.
class SerdeYamlDumper(getattr(yaml, 'CSafeDumper', yaml.SafeDumper)):
    pass


# No line folding: libyaml takes -1 for it, PyYAML's own emitter an infinite width.
WIDTH = -1 if hasattr(yaml, 'CSafeDumper') else float('inf')


SerdeYamlDumper.yaml_implicit_resolvers = {}
for tag, regexp, first in [
    ('tag:yaml.org,2002:null', NULL, '~nN'),
    ('tag:yaml.org,2002:bool', BOOL, 'tTfF'),
    ('tag:yaml.org,2002:int', INT, '-+0123456789'),
    ('tag:yaml.org,2002:float', FLOAT, '-+.0123456789'),
]:
    SerdeYamlDumper.add_implicit_resolver(tag, regexp, list(first))


def represent_str(dumper, value):
    if value == '':
        return dumper.represent_scalar('tag:yaml.org,2002:str', value, style="'")
    style = '|' if '\n' in value else None
    # Digits that are no number (`0123`, `1_000`) serde_yaml quotes too.
    if style is None and re.match(r'^[-+]?[0-9][0-9_]*$', value) and not INT.match(value):
        style = "'"
    return dumper.represent_scalar('tag:yaml.org,2002:str', value, style=style)


def represent_none(dumper, _):
    return dumper.represent_scalar('tag:yaml.org,2002:null', 'null')


SerdeYamlDumper.add_representer(str, represent_str)
SerdeYamlDumper.add_representer(Markup, represent_str)
SerdeYamlDumper.add_representer(type(None), represent_none)


def toyaml(value, indent=0):
    text = yaml.dump(value, Dumper=SerdeYamlDumper, sort_keys=False, allow_unicode=True,
                     width=WIDTH, default_flow_style=False)
    text = text.rstrip()
    return Markup(('\n' + ' ' * (indent or 0)).join(text.split('\n')))


def comment(value):
    return Markup(''.join(' ' if (ord(c) < 32 or 0x7f <= ord(c) <= 0x9f) else c
                          for c in str(value)))


def md(value):
    return (str(value).replace('\\', '\\\\').replace('|', '\\|').replace('&', '&amp;')
            .replace('<', '&lt;').replace('\n', ' ').replace('\r', ' '))


# --- printing: minijinja's, per template ----------------------------------------------------
def plain(value):
    if isinstance(value, Markup):
        return value
    if value is None:
        return 'none'
    if value is True:
        return 'true'
    if value is False:
        return 'false'
    return value


def json_escaped(value):
    if isinstance(value, Markup):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(',', ':'))


def environment(templates, finalize):
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        block_start_string='{{%', block_end_string='%}}',
        variable_start_string='{{{', variable_end_string='}}}',
        comment_start_string='{{#', comment_end_string='#}}',
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined, finalize=finalize, autoescape=False)
    env.filters.update(toyaml=toyaml, comment=comment, md=md)
    return env


def safe(obj):
    if isinstance(obj, dict):
        if len(obj) == 1 and '__safe__' in obj:
            return Markup(obj['__safe__'])
        return {k: safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [safe(v) for v in obj]
    return obj


def main():
    dump_path, templates, out = sys.argv[1:4]
    with open(dump_path, encoding='utf-8') as f:
        dump = json.load(f)
    escaped = environment(templates, json_escaped)
    raw = environment(templates, plain)
    outputs = []
    for call in dump['calls']:
        name = call['template']
        env = escaped if name.endswith(('.yaml.j2', '.json.j2')) else raw
        outputs.append(env.get_template(name).render(safe(call['context'])))
    placeholder = dump['placeholder']
    tree = {}
    for f in dump['files']:
        if 'text' in f:
            tree[f['path']] = f['text']
            continue
        body = outputs[f['call']]
        if f['unbind']:
            body = body.replace(placeholder, '${REGISTRY}')
        tree[f['path']] = f['prefix'] + body + f['suffix']
    lines = [dump['manifest_head']]
    for path in sorted(tree):
        lines.append('%s  %s\n' % (hashlib.sha256(tree[path].encode()).hexdigest(), path))
    tree[dump['manifest']] = ''.join(lines)
    for path, text in tree.items():
        full = os.path.join(out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w', encoding='utf-8', newline='') as f:
            f.write(text)


if __name__ == '__main__':
    main()
