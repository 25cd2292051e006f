"""The certificate of origin as a PDF for people: what the credential states, and how it was
reached, on paper a buyer files and an auditor reads.

``render_certificate(document)`` takes the certificate document (JSON-able; its shape is the
issue 13 contract's, built by the service that issues the certificate for the requesting
organization, so a mass or facility it may not know is already None) and returns the PDF's
bytes. The same document gives the same bytes (reportlab's invariant mode): the file's SHA-256
is a property of the certificate, not of the minute it was drawn.

Large upstreams stay a few pages: the genealogy is drawn summarized above
``genealogy_picture.DETAIL_LIMIT`` lots, the route is one row per facility, a long mass
balance one row per kind of step and facility (``mass_balance_summary``), and each data
center lists its largest pickups within ``PICKUP_ROWS`` rows in all (the ledger CSV has every
event). Pure: reportlab only.
"""

import io
from collections import defaultdict
from functools import partial
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    Preformatted,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .genealogy_picture import genealogy_picture, is_summarized
from .mass_balance_summary import shown_steps

PLATFORM = "Rare-earth custody ledger"
MARGIN = 48
WIDTH = LETTER[0] - 2 * MARGIN
PICKUP_ROWS = 200  # pickup rows in all, shared between the data centers
SHOWN_LOTS = 3  # lot codes in one cell before "+N more"
BADGE = {
    "verified": colors.HexColor("#1b7f3b"),
    "unverified": colors.HexColor("#a35f00"),
    "non_compliant": colors.HexColor("#b3261e"),
}
INK = colors.HexColor("#1f2a44")
RULE = colors.HexColor("#c5cddb")
BAND = colors.HexColor("#eef2f8")
ALL, END = (0, 0), (-1, -1)  # a table's first and last cell
INDENT = "\u00a0" * 3  # a pickup under its data center: plain text, laid out fast
DASH = "\u2014"  # a mass or field the requester may not know, or nobody recorded


def _style(name, **values) -> ParagraphStyle:
    base = {"fontName": "Helvetica", "fontSize": 8, "leading": 10, "textColor": INK}
    return ParagraphStyle(name, **{**base, **values})


STYLES = {
    "title": _style("title", fontName="Helvetica-Bold", fontSize=18, leading=22),
    "subtitle": _style("subtitle", fontSize=9.5, leading=12),
    "h2": _style(
        "h2", fontName="Helvetica-Bold", fontSize=11, leading=14, spaceBefore=10, keepWithNext=1
    ),
    "body": _style("body"),
    "note": _style("note", fontSize=7, leading=9, textColor=colors.HexColor("#55607a")),
    "cell": _style("cell", fontSize=7.5, leading=9),
    "bold": _style("bold", fontName="Helvetica-Bold", fontSize=7.5, leading=9),
    "badge": _style("badge", fontName="Helvetica-Bold", fontSize=13, leading=16),
    "mono": _style("mono", fontName="Courier", fontSize=7.5, leading=9),
    "note_mono": _style("note_mono", fontName="Courier", fontSize=6.5, leading=8),
}


def render_certificate(document: dict) -> bytes:
    """The PDF of the certificate ``document``: the same document, the same bytes."""
    buffer = io.BytesIO()
    lot, verdict = document["lot"], document["verdict"]
    host = urlsplit(document["verify_url"]).hostname or ""
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        **dict.fromkeys(("leftMargin", "rightMargin", "topMargin", "bottomMargin"), MARGIN),
        title=f"Certificate of origin {lot['code']}",
        author=f"{PLATFORM} ({host})" if host else PLATFORM,
        subject=f"{verdict['outcome_label']} under {verdict['policy']}: "
        f"certificate {document['certificate_id']}",
        creator=PLATFORM,
        invariant=1,
    )
    footer = f"Certificate of origin {document['certificate_id']} \u00b7 lot {lot['code']}"
    pdf.build(_story(document), canvasmaker=partial(_NumberedCanvas, footer=footer))
    return buffer.getvalue()


def _story(document: dict) -> list:
    return [
        *_heading(document),
        *_verdict(document["verdict"]),
        *_parties(document),
        *_contributions(document["contributions"]),
        *_genealogy(document["genealogy"], document["lot"]["code"]),
        *_route(document["route"]),
        *_mass_balance(document["mass_balance"]),
        *_findings(document["findings"]),
        *_ledger(document["ledger"]),
        *_verification(document["verify_url"]),
    ]


def _p(text, style: str = "cell") -> Paragraph:
    """A paragraph of plain text: a lot code or name holding ``<`` or ``&`` is text, not
    markup."""
    return Paragraph(escape(str(text)), STYLES[style])


def _h2(text: str) -> Paragraph:
    return _p(text, "h2")


def _time(value: str | None) -> str:
    return (value or DASH).replace("T", " ").replace("Z", " UTC")


def _kg(value) -> str:
    return DASH if value is None else f"{value} kg"


def _percent(value) -> str:
    return DASH if value is None else f"{value:.2f} %"


def _lots(codes: list[str]) -> str:
    shown = ", ".join(codes[:SHOWN_LOTS])
    more = len(codes) - SHOWN_LOTS
    return f"{shown} +{more:,} more" if more > 0 else shown


def _grid(cells: list[list], widths: list[float], *commands, repeat: int = 0) -> Table:
    table = Table(cells, colWidths=widths, repeatRows=repeat, hAlign="LEFT")
    table.setStyle(TableStyle(list(commands)))
    return table


def _table(header: list[str], rows: list[list], widths: list[float], extra=()) -> Table:
    """A table whose header row repeats on every page it runs onto."""
    return _grid(
        [[_p(text, "bold") for text in header], *rows],
        widths,
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("VALIGN", ALL, END, "TOP"),
        ("FONT", (0, 1), END, "Helvetica", 7.5),
        ("TOPPADDING", ALL, END, 2),
        ("BOTTOMPADDING", ALL, END, 2),
        *extra,
        repeat=1,
    )


def _pairs(rows: list[tuple], key_width: float) -> Table:
    """Label and value, the values aligned: the lot's facts, the ledger's fingerprint."""
    cells = [[_p(key, "bold"), _p(value, style)] for key, value, style in rows]
    padding = [("LEFTPADDING", ALL, END, 0), ("TOPPADDING", ALL, END, 1)]
    return _grid(cells, [key_width, WIDTH - key_width], *padding)


def _heading(document: dict) -> list:
    lot = document["lot"]
    line = (
        f"Lot {lot['code']} \u00b7 {lot['material']} \u00b7 issued {_time(document['issued_at'])}"
    )
    return [_p("Certificate of origin", "title"), _p(line, "subtitle"), Spacer(0, 10)]


def _verdict(verdict: dict) -> list:
    badge = Paragraph(
        escape(verdict["outcome_label"]), _style("on", parent=STYLES["badge"], textColor="white")
    )
    policy = Paragraph(
        f"Origin policy <b>{escape(verdict['policy_name'])}</b> "
        f"({escape(verdict['policy'])}), assessed {escape(_time(verdict['assessed_at']))}. "
        f"Outcome: {escape(verdict['outcome'])}.",
        STYLES["body"],
    )
    fill = BADGE.get(verdict["outcome"], colors.HexColor("#55607a"))
    table = _grid(
        [[badge, policy]],
        [190, WIDTH - 190],
        ("BACKGROUND", ALL, ALL, fill),
        ("VALIGN", ALL, END, "MIDDLE"),
        ("BOX", ALL, END, 0.8, fill),
        ("LEFTPADDING", ALL, END, 8),
        ("TOPPADDING", ALL, END, 7),
        ("BOTTOMPADDING", ALL, END, 7),
    )
    return [table, Spacer(0, 6)]


def _parties(document: dict) -> list:
    lot, buyer = document["lot"], document["buyer"]
    produced = f"{lot['facility'] or DASH} ({lot['country']}), {lot['produced_on'] or DASH}"
    rows = [
        ("Lot", lot["code"]),
        ("Material", lot["material"]),
        ("Mass", _kg(lot["mass_kg"])),
        ("Produced at", produced),
        ("Buyer", f"{buyer['name']} ({buyer['country']})" if buyer else DASH),
        ("Certificate", document["certificate_id"]),
        ("Issued", _time(document["issued_at"])),
    ]
    return [_h2("The lot and its buyer"), _pairs([(*row, "cell") for row in rows], 90)]


def _contributions(contributions: list[dict]) -> list:
    """Each data center's share of the lot, then its largest pickups, within ``PICKUP_ROWS``
    rows in all: every data center is named however many pickups there are."""
    if not contributions:
        return [_h2("Contributions"), _p("No pickup contributes to this lot.", "body")]
    per_center = max(3, PICKUP_ROWS // len(contributions))
    rows, bands = [], []
    for center in contributions:
        bands.append(("BACKGROUND", (0, len(rows) + 1), (-1, len(rows) + 1), BAND))
        count = len(center["pickups"])
        name = f"{center['data_center']} ({count:,} pickup{'' if count == 1 else 's'})"
        rows.append([_p(name, "bold"), center["country"], "", _percent(center["share_percent"])])
        rows[-1].append(_kg(center["mass_kg"]))
        pickups = sorted(center["pickups"], key=lambda pickup: -pickup["share_percent"])
        for pickup in pickups[:per_center]:
            rows.append([INDENT + pickup["lot"], "", pickup["picked_up_on"] or DASH])
            rows[-1] += [_percent(pickup["share_percent"]), _kg(pickup["mass_kg"])]
        if rest := pickups[per_center:]:
            share = sum(pickup["share_percent"] for pickup in rest)
            rows.append([f"{INDENT}and {len(rest):,} smaller pickups", "", "", _percent(share), ""])
    header = ["Data center / pickup lot", "Country", "Picked up", "Share of lot", "Mass"]
    table = _table(header, rows, [230, 50, 70, 70, WIDTH - 420], bands)
    return [_h2("Contributions by data center and pickup"), table, _dash_note()]


def _dash_note() -> Paragraph:
    return _p(f"{DASH} not disclosed to the requesting organization, or not recorded.", "note")


def _genealogy(genealogy: dict, root: str) -> list:
    picture = genealogy_picture(genealogy, root, WIDTH, 560)
    lots = len({node["code"] for node in genealogy["nodes"]} - {root})
    caption = f"{lots:,} upstream lots; arrows run from parent lot to child lot."
    if is_summarized(genealogy, root, WIDTH):
        caption += " Summarized by depth: the ledger CSV lists every lot."
    return [KeepTogether([_h2("Genealogy"), Spacer(0, 4), picture, _p(caption, "note")])]


def _route(route: list[dict]) -> list:
    """One row per facility (or country, where the facility is not disclosed): a thousand lots
    through the same carrier are one stop of the route."""
    stops: dict[tuple, dict] = defaultdict(lambda: {"lots": {}, "kinds": set(), "dates": []})
    for leg in route:
        stop = stops[(leg["facility"], leg["country"])]
        stop["lots"][leg["lot"]] = None  # each lot once, in the order of its first stay
        stop["kinds"].update(leg["kinds"])
        stop["dates"] += [date for date in (leg["first"], leg["last"]) if date]
    rows = []
    ordered = sorted(
        stops.items(), key=lambda item: (min(item[1]["dates"], default=""), str(item[0]))
    )
    for (facility, country), stop in ordered:
        name = facility or f"A facility in {country} (not disclosed)"
        kinds = ", ".join(sorted(kind.replace("_", " ") for kind in stop["kinds"]))
        dates = stop["dates"] or [DASH]
        lots = _p(_lots(list(stop["lots"])))
        rows.append([_p(name), country or DASH, min(dates), max(dates), lots, _p(kinds)])
    header = ["Facility", "Country", "From", "To", "Lots", "Events"]
    table = _table(header, rows, [140, 44, 56, 56, 110, WIDTH - 406])
    return [_h2("Route: every facility and country the material passed through"), table]


def _mass_balance(steps: list[dict]) -> list:
    """Every step; above ``MASS_BALANCE_ROWS``, one row per kind of step at each facility."""
    if not steps:
        return [_h2("Mass balance"), _p("No transformation upstream of this lot.", "body")]
    shown, note = shown_steps(steps)
    rows = []
    for step in shown:
        what = f"{step['kind'].replace('_', ' ')}\n{step['date'] or DASH}"
        lots = f"{_lots(step['lots_in'])} \u2192 {_lots(step['lots_out'])}"
        masses = [step[key] for key in ("mass_in_kg", "mass_out_kg", "residue_kg", "loss_kg")]
        rows.append([what, _p(step["facility"] or DASH), _p(lots)])
        rows[-1] += [DASH if mass is None else mass for mass in masses]
        rows[-1].append(_percent(step["loss_percent"]))
    header = ["Step", "Facility", "Lots in → out", "In kg", "Out kg", "Residue", "Loss", "Loss %"]
    widths = [62, 90, 124, 50, 50, 46, 46, WIDTH - 468]
    extra = [("ALIGN", (3, 1), (-1, -1), "RIGHT")]
    story = [_h2("Mass balance per step"), _table(header, rows, widths, extra), _dash_note()]
    return story + ([_p(note, "note")] if note else [])


def _findings(findings: list[dict]) -> list:
    if not findings:
        return [_h2("Findings"), _p("No findings: every rule of the policy holds.", "body")]
    rows = [_finding(finding) for finding in findings]
    table = _table(
        ["Code", "Severity", "Lot", "Seq", "Message"], rows, [134, 62, 80, 24, WIDTH - 300]
    )
    return [_h2(f"Findings ({len(findings):,})"), table]


def _finding(finding: dict) -> list:
    cells = [finding["code"], finding["severity"].replace("_", " "), finding["lot"]]
    return [*map(_p, cells), str(finding["seq"] or DASH), _p(finding["message"])]


def _ledger(ledger: dict) -> list:
    """The fingerprint: each hex digest whole on one line, in a monospace font, so that a
    reader compares it character by character and a text extractor reads it back whole."""
    rows = [
        ("Upstream events", f"{ledger['upstream_events']:,}", "cell"),
        ("Log tree size", f"{ledger['tree_size']:,}", "cell"),
        ("Log", ledger["log_origin"], "cell"),
        ("Credential SHA-256", ledger["credential_sha256"], "mono"),
    ]
    fingerprint = [
        _h2("Ledger fingerprint"),
        _p("Merkle root (RFC 6962) over the hashes of every upstream event, in log-index order:"),
        _p(ledger["upstream_root"], "mono"),
        Spacer(0, 4),
        _pairs(rows, 90),
        Spacer(0, 4),
    ]
    return [
        KeepTogether(fingerprint),
        _p(
            "The signed checkpoint of the transparency log this certificate was issued against:",
            "body",
        ),
        Preformatted(ledger["checkpoint"].rstrip("\n"), STYLES["note_mono"], maxLineLength=110),
    ]


def _verification(url: str) -> list:
    text = (
        "Scan the code, or open the address below, to check that this certificate has not been "
        "revoked or superseded, that its signature holds, and that today's ledger still "
        "produces the Merkle root above."
    )
    link = f'<link href="{escape(url, {chr(34): "&quot;"})}">{escape(url)}</link>'
    words = [_p(text, "body"), Spacer(0, 4), Paragraph(link, STYLES["mono"])]
    table = _grid(
        [[_qr(url, 92), words]],
        [104, WIDTH - 104],
        ("VALIGN", ALL, END, "MIDDLE"),
        ("LEFTPADDING", ALL, END, 0),
    )
    return [KeepTogether([_h2("Verify this certificate"), table])]


def _qr(url: str, size: float) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    scale = [size / (right - left), 0, 0, size / (top - bottom), 0, 0]
    drawing = Drawing(size, size, transform=scale)
    drawing.add(widget)
    return drawing


class _NumberedCanvas(Canvas):
    """Holds every page back until the last is laid out, so that each footer says "page N of
    M"."""

    def __init__(self, *args, footer: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages = []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        for number, page in enumerate(self._pages, start=1):
            self.__dict__.update(page)
            self._draw_footer(number, len(self._pages))
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, pages: int) -> None:
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        self.line(MARGIN, MARGIN - 14, LETTER[0] - MARGIN, MARGIN - 14)
        self.setFont("Helvetica", 7)
        self.setFillColor(INK)
        self.drawString(MARGIN, MARGIN - 24, self._footer)
        self.drawRightString(LETTER[0] - MARGIN, MARGIN - 24, f"Page {number} of {pages}")
        self.restoreState()
