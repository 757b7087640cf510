"""The ``/users`` area: the people of an organization, their roles, teams and presence."""
