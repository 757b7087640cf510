"""The ``/invitations`` area: emailed, single-use links that bring people into an organization."""
