"""The ``/tags`` area: labels an organization puts on conversations."""
