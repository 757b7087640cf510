"""The ``/contacts`` area: the customers of the organization, found by name or number."""
