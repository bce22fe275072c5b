"""QR codes of share links, drawn by segno (ISO/IEC 18004) as SVG: no image library, no files."""

from __future__ import annotations

import io

import segno

# Error correction M (15 % of the symbol can be damaged or covered); segno raises it for free when
# the version has room. Four modules of quiet zone are what the standard asks for.
ERROR_CORRECTION = "m"
QUIET_ZONE = 4


def invite_qr_svg(*, url: str, scale: int = 4, title: str = "") -> str:
    """The QR code of `url` as an SVG document (text, with the SVG namespace and no XML declaration, so
    it serves as image/svg+xml and inlines into HTML alike), black on white so it also scans from a dark
    screen; `scale` is pixels per module, `title` the accessible name."""
    qr = segno.make(url, error=ERROR_CORRECTION, micro=False)
    out = io.BytesIO()
    qr.save(
        out,
        kind="svg",
        scale=scale,
        border=QUIET_ZONE,
        dark="#000",
        light="#fff",
        title=title or None,
        xmldecl=False,
        svgns=True,
        nl=False,
    )
    return out.getvalue().decode()
