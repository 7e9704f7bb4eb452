"""stsvend: STS (IEC 62055-41) prepayment token vending.

The pure core loads with no shell dependency (no click, rich, SQLAlchemy or server stack):

* :mod:`stsvend.sts` — tokens of every class, EA07/EA11 ciphers, DKGA02/04, meter identity;
* :mod:`stsvend.errors` — the one error tree, rooted at :class:`~stsvend.errors.StsError`.

>>> import stsvend
>>> stsvend.sts.MeterIdentity.parse(None, "01234567897").pan
'600727012345678977'
"""

from stsvend import errors, sts
from stsvend.errors import StsError

__version__ = "0.1.0"

__all__ = ["StsError", "__version__", "errors", "sts"]
