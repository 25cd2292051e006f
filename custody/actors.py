"""Who records a custody event: an organization, through a user or an API key."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from recyclers.models import Organization


@dataclass(frozen=True)
class Actor:
    organization: Organization
    user: AbstractBaseUser | None = None
    api_key_prefix: str = ""

    def __str__(self) -> str:
        via = self.user or (f"key {self.api_key_prefix}" if self.api_key_prefix else "system")
        return f"{self.organization} ({via})"
