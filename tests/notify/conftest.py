from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services.helpers import Installation, installation


@pytest.fixture
def inst() -> Iterator[Installation]:
    with installation() as it:
        yield it
