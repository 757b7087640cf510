"""``/dev/simulate/*``: development-only simulation of WhatsApp traffic (``DEV_ENDPOINTS``)."""
