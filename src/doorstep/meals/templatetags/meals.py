from django import template

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """Fen as yuan with two decimals: 1350 -> "13.50"."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"


@register.filter
def initial(name: str) -> str:
    """A name as the round sheet shows it: its first character and a mark."""
    return f"{name[:1]}＊" if name else ""
