"""The mail that tells a new organization's first admin how to sign in.

Until the invitations area provides invitation links, the admin is created active without a password
and signs in with a one-time code (``POST /auth/request-code``).
"""

from __future__ import annotations

from cxinbox.adapters.email import Mail
from cxinbox.models.identity import Organization, User


def sign_in_instructions(user: User, org: Organization, public_url: str) -> Mail:
    return Mail(
        to=user.email,
        subject=f"Your CX Inbox account for {org.name}",
        text=(
            f"Hello {user.name},\n\n"
            f"An account was created for you as administrator of {org.name} on CX Inbox.\n\n"
            f"To sign in, open {public_url} and ask for a one-time sign-in code for {user.email}; "
            "we will email you the code. You can set a password once you are signed in.\n"
        ),
    )
