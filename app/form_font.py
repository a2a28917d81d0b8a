"""The Chinese font of printed forms: Noto Sans SC, from PyPI, embedded as a subset.

The font comes with the package ``pylopdf-fonts-zh-cn`` (Noto Sans SC Regular, SIL Open
Font License; no system font, no download at run time). It is an OpenType font with
PostScript (CID-keyed CFF) outlines; a PDF library embeds those with a CMap of its own
that text extractors (pypdf, pdfminer.six) do not read. So each form gets a TrueType
subset of exactly the characters it prints: the glyphs are taken from the OTF
(fontTools' subsetter, under a second) and their cubic outlines converted to quadratic
ones (cu2qu, as fontTools' otf2ttf does), which fpdf2 embeds as a CIDFontType2 font
with Identity-H encoding and a ToUnicode map, which every viewer, printer and text
extractor reads the same way.
"""
from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

# Conversion error in font units (1000 per em): invisible at any printed size.
MAX_ERR = 1.0
# Always in the subset: printable ASCII and the punctuation the form's own labels use.
BASE_TEXT = "".join(chr(c) for c in range(32, 127)) + "，。：；、（）—…·→「」《》“”‘’【】"


def font_path():
    import pylopdf_fonts_zh_cn

    return str(pylopdf_fonts_zh_cn.sans_path())


def _quadratic(glyph_set):
    glyphs = {}
    for name in glyph_set.keys():
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, MAX_ERR, reverse_direction=True))
        glyphs[name] = pen.glyph()
    return glyphs


def _to_truetype(font):
    order = font.getGlyphOrder()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = _quadratic(font.getGlyphSet())
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():
        if hasattr(glyph, "xMin"):
            hmtx[name] = (hmtx[name][0], glyph.xMin)
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    maxp.maxTwilightPoints = maxp.maxStorage = maxp.maxFunctionDefs = 0
    maxp.maxInstructionDefs = maxp.maxStackElements = maxp.maxSizeOfInstructions = 0
    maxp.maxComponentElements = max(
        (len(getattr(g, "components", ()) or ()) for g in glyf.glyphs.values()), default=0)
    maxp.compile(font)
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font.sfntVersion = "\000\001\000\000"


def truetype_subset(text, path):
    """Write to ``path`` a TrueType font with the glyphs of ``text`` and BASE_TEXT."""
    font = TTFont(font_path())
    options = subset.Options(layout_features=[], notdef_outline=True, hinting=False,
                             desubroutinize=True, name_IDs=["*"])
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text) | set(BASE_TEXT))))
    subsetter.subset(font)
    _to_truetype(font)
    font.save(path)
    return path
