"""The conversation status machine: the one table of allowed moves.

```
from → to              BOT_HANDLING  HUMAN_HANDLING  OPEN  WAITING_FOR_CUSTOMER  CLOSED
BOT_HANDLING                 .              yes        yes           -               yes
OPEN                        yes             yes         .           yes              yes
HUMAN_HANDLING              yes              .         yes          yes              yes
WAITING_FOR_CUSTOMER         -              yes        yes           .               yes
CLOSED                       -               -          -            -                .
```

- ``BOT_HANDLING``: the bot answers. An agent takes over (``HUMAN_HANDLING``) or the bot hands the
  conversation to the queue (``OPEN``).
- ``OPEN``: waits in its team's queue for an agent; assigning it makes it ``HUMAN_HANDLING``.
- ``HUMAN_HANDLING``: an agent works it; unassigning puts it back to ``OPEN``.
- ``WAITING_FOR_CUSTOMER``: the agent waits for an answer; a customer message moves it back to
  ``HUMAN_HANDLING`` (assigned) or ``OPEN`` (unassigned).
- ``CLOSED``: resolved; no move of this table leaves it, and a customer who writes again starts a
  new conversation. The one way back is a reply sent to it, which reopens it to ``HUMAN_HANDLING``
  (assigned) or ``OPEN`` (``changes.reopen_for_reply``).

Staying in the same status is not a move (it changes nothing and is never refused).
"""

from __future__ import annotations

from cxinbox.core.errors import Conflict
from cxinbox.models.inbox import ConversationStatus as S

ALLOWED_MOVES: dict[S, frozenset[S]] = {
    S.BOT_HANDLING: frozenset({S.HUMAN_HANDLING, S.OPEN, S.CLOSED}),
    S.OPEN: frozenset({S.HUMAN_HANDLING, S.WAITING_FOR_CUSTOMER, S.BOT_HANDLING, S.CLOSED}),
    S.HUMAN_HANDLING: frozenset({S.OPEN, S.WAITING_FOR_CUSTOMER, S.BOT_HANDLING, S.CLOSED}),
    S.WAITING_FOR_CUSTOMER: frozenset({S.OPEN, S.HUMAN_HANDLING, S.CLOSED}),
    S.CLOSED: frozenset(),
}


class InvalidStatusTransition(Conflict):
    code = "INVALID_STATUS_TRANSITION"
    message = "The conversation cannot move to that status from its current one"


def can_move(current: S, target: S) -> bool:
    return current == target or target in ALLOWED_MOVES[current]


def ensure_move(current: S, target: S) -> None:
    if not can_move(current, target):
        allowed = sorted(s.value for s in ALLOWED_MOVES[current])
        raise InvalidStatusTransition(
            f"A {current.value} conversation cannot move to {target.value}",
            details={"from": current.value, "to": target.value, "allowed": allowed},
        )
