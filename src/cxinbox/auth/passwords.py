"""Password hashing with argon2 (pwdlib); costs come from settings so tests can run cheap."""

from __future__ import annotations

import asyncio

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_PASSWORD_LENGTH = 8


class PasswordHasher:
    def __init__(self, time_cost: int, memory_cost: int) -> None:
        self._hash = PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost),))
        # verifying against this keeps "no such user" as slow as "wrong password"
        self._dummy = self._hash.hash("not-a-real-password")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, hashed: str | None) -> bool:
        return (
            await asyncio.to_thread(self._hash.verify, password, hashed or self._dummy) and hashed is not None
        )
