#!/usr/bin/env bash
# Re-extract the translatable strings and merge them into the zh catalog.
#
#   scripts/update_catalog.sh
#
# The template (app/translations/messages.pot) holds:
#   * every msgid of ours (_l / lazy_gettext / gettext / _ in app/, seeds/, templates);
#   * the labels of the LabelledEnum classes (the chapters' models), which are plain strings
#     in the source and translated at run time;
#   * the role names (config.FAB_ROLES and the Public role), shown as _(role.name);
#   * Flask-AppBuilder msgids that FAB's own zh catalog lacks, leaves empty or marks
#     fuzzy, plus the few FAB_OVERRIDES below whose FAB translation we replace.
# New msgids arrive in app/translations/zh/LC_MESSAGES/messages.po with an empty
# msgstr; translate them, then `make translations` (or this script) compiles.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="$PWD/.venv/bin"
POT=app/translations/messages.pot
PO=app/translations/zh/LC_MESSAGES/messages.po
KEYWORDS=(-k _l -k lazy_gettext -k gettext -k _ -k N_)

# 1. Our own strings (pybabel skips dot-directories such as .venv).
"$BIN/pybabel" extract -F babel.cfg "${KEYWORDS[@]}" --add-comments=TRANSLATORS: \
    --project="IS governance platform" --copyright-holder="" --sort-by-file \
    -o "$POT" .

# 2. Flask-AppBuilder's strings, to find the gaps of its zh catalog.
FAB_DIR=$("$BIN/python" -c 'import flask_appbuilder, os; print(os.path.dirname(flask_appbuilder.__file__))')
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf '[python: **.py]\n[jinja2: **/templates/**.html]\n' > "$TMP/fab.cfg"
(cd "$FAB_DIR" && "$BIN/pybabel" -q extract -F "$TMP/fab.cfg" \
    -k lazy_gettext -k gettext -k _ -k __ -k lazy_formatter_gettext -o "$TMP/fab.pot" .)

# 3. Enum labels, role names and FAB gaps go into the same template.
"$BIN/python" - "$POT" "$TMP/fab.pot" "$FAB_DIR" <<'PY'
import inspect
import os
import sys

from babel.messages.pofile import read_po, write_po

pot_path, fab_pot_path, fab_dir = sys.argv[1:4]
sys.path.insert(0, os.getcwd())

# FAB msgids whose translation in FAB's zh catalog is wrong or awkward.
FAB_OVERRIDES = {
    "Integrity error, probably unique constraint",
    "User Registrations",
    "Profile",
    "List View Menus",
    "Starts with",
    "Not Starts with",
    "Ends with",
    "Not Ends with",
    "Detail",
}

with open(pot_path, "rb") as f:
    pot = read_po(f)

# Enum labels (LabelledEnum members store an English msgid as their value).
from app.chapters import load_models  # noqa: E402

load_models()  # defines the enums
from app.i18n import LabelledEnum  # noqa: E402

for cls in sorted(LabelledEnum.__subclasses__(), key=lambda c: inspect.getsourcelines(c)[1]):
    path = os.path.relpath(inspect.getsourcefile(cls))
    line = inspect.getsourcelines(cls)[1]
    for member in cls:
        pot.add(str.__str__(member.value), locations=[(path, line)],
                auto_comments=[f"{cls.__name__}.{member.name}"])

# Role names, shown translated on the home page.
import config  # noqa: E402

config_lines = open("config.py", encoding="utf-8").read().splitlines()


def config_line(needle):
    return next((i for i, text in enumerate(config_lines, 1) if needle in text), None)


for name in list(config.FAB_ROLE_DEFINITIONS) + [config.Config.AUTH_ROLE_PUBLIC]:
    line = config_line(f'"{name}"') or config_line("AUTH_ROLE_PUBLIC")
    pot.add(name, locations=[("config.py", line)], auto_comments=["Role name"])

# Flask-AppBuilder: missing from, empty or fuzzy in its zh catalog, or overridden.
with open(os.path.join(fab_dir, "translations", "zh", "LC_MESSAGES", "messages.po"), "rb") as f:
    fab_zh = read_po(f)
with open(fab_pot_path, "rb") as f:
    fab_pot = read_po(f)


def fab_gap(msgid):
    known = fab_zh.get(msgid)
    if known is None or known.fuzzy or msgid in FAB_OVERRIDES:
        return True
    string = known.string if isinstance(known.string, str) else known.string[0]
    return not string


seen = set()
for prefix, messages in (("flask_appbuilder/", fab_pot), ("", fab_zh)):
    for message in messages:
        if not message.id or message.id in seen or not fab_gap(message.id):
            continue
        seen.add(message.id)
        locations = [(prefix + path, line) for path, line in message.locations]
        pot.add(message.id, locations=locations or [("flask_appbuilder", None)],
                flags=message.flags - {"fuzzy"}, auto_comments=["Flask-AppBuilder"])

with open(pot_path, "wb") as f:
    write_po(f, pot, sort_by_file=True)
PY

# 4. Merge into the zh catalog (created on first run).
if [ -f "$PO" ]; then
    "$BIN/pybabel" update -i "$POT" -d app/translations -l zh --no-fuzzy-matching
else
    "$BIN/pybabel" init -i "$POT" -d app/translations -l zh
fi

# 5. Report what is left to translate, then compile (.mo files are git-ignored).
"$BIN/python" - "$PO" <<'PY'
import sys

from babel.messages.pofile import read_po

with open(sys.argv[1], "rb") as f:
    catalog = read_po(f)
todo = [m.id for m in catalog if m.id and (m.fuzzy or not m.string)]
print(f"{sys.argv[1]}: {len(todo)} msgid(s) to translate")
for msgid in todo:
    print(f"  {msgid!r}")
PY
"$BIN/pybabel" compile --use-fuzzy -d app/translations
