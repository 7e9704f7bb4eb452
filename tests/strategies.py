"""Hypothesis strategies shared by the tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from stsvend import sts
from stsvend.sts.layouts import _ALL, Layout

layouts = st.sampled_from(_ALL)


def decoder_keys(ea: str | None = None) -> st.SearchStrategy[sts.DecoderKey]:
    eas = st.just(ea) if ea else st.sampled_from(["07", "11"])
    return eas.flatmap(
        lambda e: st.binary(min_size=8 if e == "07" else 16, max_size=8 if e == "07" else 16).map(
            lambda raw: sts.DecoderKey(raw, e)
        )
    )


def fields_for(layout: Layout) -> st.SearchStrategy[dict[str, int]]:
    """Every raw field of a layout over its whole range (edges favoured by hypothesis)."""
    return st.fixed_dictionaries(
        {f.name: st.integers(0, f.max) for f in layout.fields if f.fixed is None}
    )


@st.composite
def token_and_key(draw: Any) -> tuple[Layout, dict[str, int], sts.DecoderKey | None]:
    layout = draw(layouts)
    ea = layout.ea or draw(st.sampled_from(["07", "11"]))
    if (layout.token_class, layout.subclass) == (2, 9):
        ea = "11"
    key = draw(decoder_keys(ea)) if layout.encrypted else None
    return layout, draw(fields_for(layout)), key
