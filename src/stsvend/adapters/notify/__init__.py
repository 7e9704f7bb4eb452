"""Customer notices' adapters: the channels (``file``, ``smtp``, ``http-sms``), the CRM contact
lookup (``http``) and the ``notify`` worker part that produces and sends notices.

The services (:mod:`stsvend.services.notices`) define what a channel and a lookup must offer;
these modules implement it over files, SMTP and HTTP.
"""

__all__ = ["crm_contacts", "file_channel", "settings", "sms_channel", "smtp_channel", "worker"]
