"""Chinese by default, English one click away: the zh catalog is complete and in use.

The catalog lives in app/translations (scripts/update_catalog.sh re-extracts and
merges new strings). The compiled .mo is git-ignored, so this module compiles it
when it is missing or older than the .po.
"""
import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
POT = TRANSLATIONS / "messages.pot"
PO = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")

# printf-style placeholders: %(name)s, %(count)d, %(mb).1f, %s ...
PLACEHOLDER_RE = re.compile(r"%(?:\(\w+\))?[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")

ROLE_NAMES_ZH = {
    "Admin": "系统管理员",
    "Clerk": "业务录入员",
    "DeptHead": "部门负责人",
    "ITStaff": "信息管理部门专员",
    "Expert": "评审专家",
    "Management": "公司管理层",
    "Auditor": "审计员",
    "Unassigned": "待分配部门人员",
    "Public": "公众",
}


def read_catalog(path):
    with open(path, "rb") as f:
        return read_po(f)


def placeholders(text):
    return sorted(PLACEHOLDER_RE.findall(text))


@pytest.fixture(scope="module")
def zh_catalog():
    return read_catalog(PO)


@pytest.fixture(scope="module", autouse=True)
def compiled_catalog(app):
    """Compile messages.po like `pybabel compile --use-fuzzy` when the .mo is stale."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        catalog = read_catalog(PO)
        with open(MO, "wb") as f:
            write_mo(f, catalog, use_fuzzy=True)
        # Translations are cached per locale; drop what was loaded before the .mo existed.
        app.extensions["babel"].instance.domain_instance.cache.clear()
    return MO


def html_of(client, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


# ------------------------------------------------------------------- catalog

def test_every_msgid_of_the_template_has_a_chinese_translation(zh_catalog):
    template = read_catalog(POT)
    problems = []
    for message in template:
        if not message.id:
            continue
        translated = zh_catalog.get(message.id)
        if translated is None:
            problems.append(f"missing: {message.id!r}")
        elif translated.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif not translated.string:
            problems.append(f"empty: {message.id!r}")
        elif placeholders(message.id) != placeholders(translated.string):
            problems.append(f"placeholders differ: {message.id!r} -> {translated.string!r}")
    assert not problems, "\n".join(problems)
    assert len([m for m in template if m.id]) > 150


def test_placeholders_are_kept_in_every_translation(zh_catalog):
    wrong = [(m.id, m.string) for m in zh_catalog
             if m.id and m.string and placeholders(m.id) != placeholders(m.string)]
    assert not wrong
    assert zh_catalog.get("%(record)s details").string == "%(record)s详情"
    assert zh_catalog.get("New %(record)s").string == "新增%(record)s"
    assert zh_catalog.get("Edit %(record)s").string == "编辑%(record)s"


def test_enum_labels_and_role_names_are_in_the_catalog(zh_catalog):
    """Enum labels are plain strings in the chapters' models, so pybabel cannot see them."""
    from app.chapters import load_models

    load_models()  # defines the enums
    from app.i18n import LabelledEnum
    from config import FAB_ROLE_DEFINITIONS

    untranslated = [
        f"{cls.__name__}.{member.name}"
        for cls in LabelledEnum.__subclasses__() for member in cls
        if not getattr(zh_catalog.get(str.__str__(member.value)), "string", "")
    ]
    assert not untranslated
    assert set(FAB_ROLE_DEFINITIONS) | {"Public"} == set(ROLE_NAMES_ZH)
    for role, chinese in ROLE_NAMES_ZH.items():
        assert zh_catalog.get(role).string == chinese


def test_template_covers_the_current_sources(tmp_path, zh_catalog):
    """A msgid added to the code without running scripts/update_catalog.sh fails here."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_l": None, "lazy_gettext": None, "gettext": None, "_": None}
    found = {msgid for _file, _line, msgid, _comments, _context
             in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
             if isinstance(msgid, str) and msgid}
    assert found, "nothing extracted: babel.cfg?"
    untranslated = sorted(m for m in found if not getattr(zh_catalog.get(m), "string", ""))
    assert not untranslated, "run scripts/update_catalog.sh and translate: %s" % untranslated


def test_fab_gaps_are_filled(zh_catalog):
    for msgid, chinese in [("Add", "新增"), ("Edit", "编辑"), ("Show", "查看"),
                           ("Are you sure you want to delete this item?", "确定要删除这条记录吗？"),
                           ("Not a valid choice", "无效的选项")]:
        message = zh_catalog.get(msgid)
        assert message is not None and not message.fuzzy and message.string == chinese


# --------------------------------------------------------------------- pages

def test_home_page_and_menu_are_chinese_by_default(login_as):
    client = login_as("clerk_fin")
    html = html_of(client, "/")
    for text in ("信息系统", "立项申请", "供应商", "采购与合同", "审计发现", "待我处理",
                 "每月故障数", "业务录入员"):
        assert text in html, text
    for english in ("Project requests", "Vendors", "Waiting for you", "Clerk<",
                    "Audit findings", "Incidents per month"):
        assert english not in html, english


@pytest.mark.parametrize("username, role", [("admin", "系统管理员"), ("auditor", "审计员")])
def test_role_names_are_translated_on_the_home_page(login_as, username, role):
    html = html_of(login_as(username), "/")
    assert role in html


def test_language_switch_to_english_and_back(login_as):
    client = login_as("clerk_fin")
    assert client.get("/lang/en").status_code == 302
    english = html_of(client, "/")
    assert "Project requests" in english
    assert "Procurement and contracts" in english
    assert "立项申请" not in english
    listing = html_of(client, "/informationsystemview/list/")
    assert "Owning department" in listing and "Running" in listing
    assert "归口部门" not in listing

    assert client.get("/lang/zh").status_code == 302
    chinese = html_of(client, "/")
    assert "立项申请" in chinese
    assert "Project requests" not in chinese


def test_list_page_shows_chinese_labels_and_statuses(login_as):
    html = html_of(login_as("clerk_fin"), "/informationsystemview/list/")
    for text in ("归口部门", "等保级别", "运维负责人", "生命周期状态", "运行中", "系统台账"):
        assert text in html, text
    for english in ("Owning department", "Protection level", ">Running<"):
        assert english not in html, english


def test_record_titles_use_the_translated_noun(login_as):
    client = login_as("clerk_fin")
    assert "新增立项申请" in html_of(client, "/projectrequestview/add")
    listing = html_of(client, "/projectrequestview/list/")
    assert "立项申请" in listing
    assert "Project request" not in listing
