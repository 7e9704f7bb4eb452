"""A vendor's sale seen from the store's own counter: a counter reversal would refund the
customer without giving the vendor's float its money back, so it is refused; the vendor's
reversal advice is the way."""

from __future__ import annotations

import pytest

from stsvend.services import receipts, sale_point, terminals, vendors
from stsvend.vending.errors import ReversalError
from tests.services.helpers import drn, installation_on


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_counter_reversal_of_a_vendors_sale_is_refused(backend: str) -> None:
    with installation_on(backend) as inst:
        vendors.add_vendor(inst.svc, inst.admin, "SHOP1", name="Corner shop", commission="2")
        vendors.deposit(inst.svc, inst.actors["supervisor"], "SHOP1", "100", reference="B-1")
        key = terminals.add_terminal(inst.svc, inst.admin, "SHOP1", "TILL-1").key
        inst.meter(drn(1))
        who = terminals.authenticate(inst.svc, key)
        sold = sale_point.purchase(inst.svc, who, purchase_id="p-1", meter=drn(1), amount="20")
        before = vendors.vendor_info(inst.svc, inst.admin, "SHOP1").float
        with pytest.raises(ReversalError, match="reversal advice"):
            receipts.reverse(inst.svc, inst.actors["supervisor"], sold.number, "wrong meter")
        assert vendors.vendor_info(inst.svc, inst.admin, "SHOP1").float == before
