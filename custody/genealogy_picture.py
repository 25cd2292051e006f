"""The genealogy of a lot as a picture for the certificate PDF: boxes and arrows, not a table.

Sources on the left, the certified lot on the right: one column per depth (the number of
transformations between a lot and the certified one), arrows from parent to child, the lot code
in each box. A genealogy a reader cannot take in at a glance (above ``DETAIL_LIMIT`` lots, or
too many columns for the page) is drawn summarized instead: one box per depth with its number
of lots and their materials and countries, arrows between depths with the number of links, and
the certified lot at the bottom. Pure: reportlab only.
"""

from collections import Counter, defaultdict

from reportlab.graphics.shapes import Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

DETAIL_LIMIT = 60
ROWS_PER_COLUMN = 40
BOX_HEIGHT, ROW_PITCH = 11, 14
ARROW_GAP = 24  # room for the arrows between two columns
MIN_BOX_WIDTH = 46
FONT, BOLD, SIZE = "Helvetica", "Helvetica-Bold", 6.5
LEVEL_HEIGHT, LEVEL_PITCH = 34, 52
INK = colors.HexColor("#1f2a44")
SOURCE_FILL = colors.HexColor("#e8f0fb")
ROOT_FILL = colors.HexColor("#cfe0f5")
ARROW = colors.HexColor("#5b6b8c")


def genealogy_picture(genealogy: dict, root: str, width: float, height: float) -> Drawing:
    """The picture of ``genealogy`` (the certificate document's ``genealogy``) for the lot coded
    ``root``, at most ``width`` x ``height`` points."""
    nodes = _with_root(genealogy["nodes"], root)
    columns = _detail_columns(nodes, genealogy["links"], width)
    if columns:
        drawing = _detailed(columns, genealogy["links"], root, width)
    else:
        drawing = _summary(nodes, genealogy["links"], root, width)
    return _fit(drawing, width, height)


def is_summarized(genealogy: dict, root: str, width: float) -> bool:
    """Whether ``genealogy_picture`` draws the summary (the PDF says so under the picture)."""
    nodes = _with_root(genealogy["nodes"], root)
    return _detail_columns(nodes, genealogy["links"], width) is None


def _detail_columns(nodes: list[dict], links: list[dict], width: float) -> list | None:
    """The columns of the detailed picture, or None when it would not be legible."""
    if len(nodes) > DETAIL_LIMIT:
        return None
    columns = _columns(nodes, links)
    return columns if width / len(columns) - ARROW_GAP >= MIN_BOX_WIDTH else None


def _with_root(nodes: list[dict], root: str) -> list[dict]:
    if any(node["code"] == root for node in nodes):
        return nodes
    return [*nodes, {"code": root, "material": "", "depth": 0, "country": None}]


def _columns(nodes: list[dict], links: list[dict]) -> list[list[dict]]:
    """Columns of boxes, deepest first; a depth with more lots than a column holds takes
    several. Within a depth, a lot sits near the children it feeds (the mean row of its
    children, one pass from the root outwards), so that arrows cross less."""
    by_depth: dict[int, list[dict]] = defaultdict(list)
    for node in nodes:
        by_depth[node["depth"]].append(node)
    children = defaultdict(list)
    for link in links:
        children[link["parent"]].append(link["child"])
    row: dict[str, float] = {}
    for depth in sorted(by_depth):
        level = by_depth[depth]
        level.sort(key=lambda node: _mean(row.get(child) for child in children[node["code"]]))
        row.update({node["code"]: index for index, node in enumerate(level)})
    columns = []
    for depth in sorted(by_depth, reverse=True):
        level = by_depth[depth]
        columns += [level[i : i + ROWS_PER_COLUMN] for i in range(0, len(level), ROWS_PER_COLUMN)]
    return columns


def _mean(values) -> float:
    known = [value for value in values if value is not None]
    return sum(known) / len(known) if known else float("inf")


def _detailed(columns: list[list[dict]], links: list[dict], root: str, width: float) -> Drawing:
    rows = max(len(column) for column in columns)
    height = rows * ROW_PITCH + 8
    column_width = width / len(columns)
    box_width = min(column_width - ARROW_GAP, 140)
    drawing = Drawing(width, height)
    places = {}
    for index, column in enumerate(columns):
        x = index * column_width + (column_width - ARROW_GAP - box_width) / 2
        top = height - (height - len(column) * ROW_PITCH) / 2
        for row, node in enumerate(column):
            y = top - (row + 1) * ROW_PITCH + (ROW_PITCH - BOX_HEIGHT) / 2
            places[node["code"]] = (x, y)
    for link in links:
        if link["parent"] in places and link["child"] in places:
            (px, py), (cx, cy) = places[link["parent"]], places[link["child"]]
            half = BOX_HEIGHT / 2
            _arrow(drawing, (px + box_width, py + half), (cx, cy + half))
    for code, (x, y) in places.items():
        _box(drawing, x, y, box_width, BOX_HEIGHT, [code], code == root)
    return drawing


def _summary(nodes: list[dict], links: list[dict], root: str, width: float) -> Drawing:
    """One box per depth, the sources on top and the certified lot at the bottom."""
    depth_of = {node["code"]: node["depth"] for node in nodes}
    levels: dict[int, list[dict]] = defaultdict(list)
    for node in nodes:
        if node["code"] != root:
            levels[node["depth"]].append(node)
    between = Counter(
        depth_of[link["parent"]]
        for link in links
        if link["parent"] in depth_of and link["child"] in depth_of
    )
    depths = sorted(levels, reverse=True)
    height = (len(depths) + 1) * LEVEL_PITCH - (LEVEL_PITCH - LEVEL_HEIGHT)
    drawing = Drawing(width, height)
    box_width = min(width, 460)
    x = (width - box_width) / 2
    for index, depth in enumerate(depths):
        y = height - LEVEL_HEIGHT - index * LEVEL_PITCH
        lines = [_level_title(depth, levels[depth]), _tally(levels[depth], "material")]
        lines.append("Countries: " + _tally(levels[depth], "country"))
        _box(drawing, x, y, box_width, LEVEL_HEIGHT, lines, False)
        label = _count(between[depth], "link")
        _arrow(drawing, (width / 2, y), (width / 2, y - (LEVEL_PITCH - LEVEL_HEIGHT)), label)
    _box(drawing, x, 0, box_width, LEVEL_HEIGHT, [f"Certified lot {root}"], True)
    return drawing


def _level_title(depth: int, nodes: list[dict]) -> str:
    return f"{_count(len(nodes), 'lot')} {_count(depth, 'transformation')} upstream"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _tally(nodes: list[dict], field: str, shown: int = 4) -> str:
    counts = Counter(node.get(field) or "not disclosed" for node in nodes).most_common()
    text = ", ".join(f"{name} ({count:,})" for name, count in counts[:shown])
    return text + (f" and {len(counts) - shown} more" if len(counts) > shown else "")


def _box(drawing, x, y, width, height, lines, root) -> None:
    fill = ROOT_FILL if root else SOURCE_FILL
    drawing.add(Rect(x, y, width, height, rx=2, ry=2, fillColor=fill, strokeColor=INK))
    pitch = height / len(lines)
    for index, text in enumerate(lines):
        font = BOLD if root or index == 0 else FONT
        baseline = y + height - (index + 1) * pitch + (pitch - SIZE) / 2 + 1
        drawing.add(
            String(x + 3, baseline, _clip(text, font, width - 6), fontName=font, fontSize=SIZE)
        )


def _clip(text: str, font: str, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width``: a box never spills over its neighbours."""
    if stringWidth(text, font, SIZE) <= width:
        return text
    while text and stringWidth(text + "\u2026", font, SIZE) > width:
        text = text[:-1]
    return text + "\u2026"


def _arrow(drawing, start, end, label: str = "") -> None:
    (x1, y1), (x2, y2) = start, end
    drawing.add(Line(x1, y1, x2, y2, strokeColor=ARROW, strokeWidth=0.5))
    length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1e-9)
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    head = [x2, y2, x2 - 4 * ux - 2 * uy, y2 - 4 * uy + 2 * ux]
    head += [x2 - 4 * ux + 2 * uy, y2 - 4 * uy - 2 * ux]
    drawing.add(Polygon(head, fillColor=ARROW, strokeColor=ARROW, strokeWidth=0.3))
    if label:
        middle = (y1 + y2) / 2 - SIZE / 2
        drawing.add(String(x1 + 6, middle, label, fontName=FONT, fontSize=SIZE, fillColor=ARROW))


def _fit(drawing: Drawing, width: float, height: float) -> Drawing:
    """Scaled down, never up, to fit the frame: a drawing taller than a page cannot be laid
    out at all."""
    scale = min(1.0, width / drawing.width, height / drawing.height)
    if scale < 1.0:
        drawing.scale(scale, scale)
        drawing.width, drawing.height = drawing.width * scale, drawing.height * scale
    return drawing
