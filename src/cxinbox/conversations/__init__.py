"""The ``/conversations`` area: the shared inbox agents work in."""
