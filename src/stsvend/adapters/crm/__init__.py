"""CRM master-data importers (entry-point group ``stsvend.crm_importers``): ``csv``, ``isu``
and ``ise``, each a column mapping over one streaming CSV reader.

They parse and map the rows; :func:`stsvend.services.crm.import_crm` checks and applies them.
"""

__all__ = ["formats", "mapping", "source"]
