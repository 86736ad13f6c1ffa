"""Patient identifiers become keyed hashes (HMAC-SHA256) before they leave the source: stable, not reversible.

The key comes from MEDROBOTICS_PATIENT_ID_KEY (prod: injected from a secret), else in local mode from a key
generated once under the local state directory. It is never logged, stored in metadata or passed to dbt.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable

import dagster as dg
from pydantic import Field, PrivateAttr

from medrobotics_dagster import settings

KEY_SETTING = "MEDROBOTICS_PATIENT_ID_KEY"
LOCAL_KEY_FILE = "patient_id.key"
MIN_KEY_BYTES = 32
PSEUDONYM_PREFIX = "pt_"


def _local_key() -> bytes:
    """The local mode key under `settings.home()`, created (0600) on first use."""
    path = settings.home() / LOCAL_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(MIN_KEY_BYTES))
    return path.read_text().strip().encode()


class Pseudonymizer(dg.ConfigurableResource):
    """Turns patient ids into `pt_<hmac-sha256 hex>` with a secret key, so cohorts and readmissions still join."""

    key: str | None = Field(
        default=None,
        description="The HMAC key (dg.EnvVar in prod). Unset: MEDROBOTICS_PATIENT_ID_KEY, else a local key file.",
    )
    _secret: bytes | None = PrivateAttr(default=None)

    def _key(self) -> bytes:
        if self._secret is None:
            value = self.key or os.environ.get(KEY_SETTING, "")
            if value:
                secret = value.encode()
            elif settings.environment() == "prod":
                raise settings.ConfigError(KEY_SETTING, "is required when MEDROBOTICS_ENV=prod")
            else:
                secret = _local_key()
            if len(secret) < MIN_KEY_BYTES:
                raise settings.ConfigError(KEY_SETTING, f"must be at least {MIN_KEY_BYTES} characters long")
            self._secret = secret
        return self._secret

    def pseudonym(self, patient_id: str | None) -> str | None:
        """The stable pseudonym of one patient id (a missing id stays missing)."""
        if not isinstance(patient_id, str):
            return None
        return PSEUDONYM_PREFIX + hmac.new(self._key(), patient_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def pseudonyms(self, patient_ids: Iterable[str | None]) -> list[str | None]:
        return [self.pseudonym(value) for value in patient_ids]
