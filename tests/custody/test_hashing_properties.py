"""The canonical bytes are exactly what the documented ``json.dumps`` call gives."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from custody.hashing import canonical_bytes, ledger_json

ledger_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
)
ledger_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | ledger_text,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(ledger_text, children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=400)
@given(st.dictionaries(ledger_text, ledger_values, max_size=8))
def test_orjson_bytes_equal_the_documented_json_dumps(content):
    assert ledger_json(content) == content
    documented = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert canonical_bytes(content) == documented
    assert json.loads(documented) == content
