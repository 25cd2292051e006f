"""The certificate of origin as a PDF for people (reportlab).

PLACEHOLDER: replaced at merge by the PDF helper's renderer; this one page only carries the
lot code, the outcome and the Merkle root, so that the reports and the audit pack have a PDF
to hold until then.
"""

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def render_certificate(document: dict) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    page.setTitle(f"Certificate of origin {document['lot']['code']}")
    page.setFont("Helvetica-Bold", 16)
    page.drawString(60, 780, f"Certificate of origin: {document['lot']['code']}")
    page.setFont("Helvetica", 11)
    page.drawString(60, 755, f"Outcome: {document['verdict']['outcome']}")
    page.drawString(60, 740, f"Verify: {document['verify_url']}")
    page.setFont("Courier", 7)
    page.drawString(60, 720, document["ledger"]["upstream_root"])
    page.showPage()
    page.save()
    return buffer.getvalue()
