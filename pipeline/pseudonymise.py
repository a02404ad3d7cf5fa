"""Normalising identity numbers and replacing them by a keyed hash.

A pseudonym is ``HMAC-SHA256(key, "<country>:<normalised number>")`` in hexadecimal, truncated
to 32 characters (128 bits). The key never lives in the repository: it comes from an
environment variable (hexadecimal) or a key file. Only synthetic studies may generate their own.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable

from personnummer import personnummer as _personnummer

from pipeline.config import StudyConfig, _resolve

PSEUDONYM_LENGTH = 32


class KeyError_(RuntimeError):
    """The pseudonymisation key is missing or unusable."""


def normalise_personnummer(raw: object) -> str | None:
    """Return a Swedish personnummer or samordningsnummer as 12 digits, or None if invalid.

    Accepts the 10- and 12-digit forms with or without ``-``/``+`` separator and surrounding
    whitespace. Validation (Luhn check digit, real date, samordningsnummer day + 60) is done by
    the ``personnummer`` package.

    Parameters
    ----------
    raw : object
        The number as typed or exported (string or integer); anything else gives None.

    Returns
    -------
    str or None
        ``YYYYMMDDNNNC`` when valid, otherwise None.
    """
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None
    text = str(raw).strip().replace(" ", "")
    if not text:
        return None
    try:
        parsed = _personnummer.parse(text)
    except _personnummer.PersonnummerException:
        return None
    return parsed.format(long_format=True)


def load_key(config: StudyConfig) -> bytes:
    """Return the study's pseudonymisation key.

    The environment variable named by ``pseudonymisation.key_env`` (hexadecimal) wins; then the
    key file. A synthetic study with ``allow_generated_key`` gets a new random key written to its
    key file (mode 0600) on first use.

    Raises
    ------
    KeyError_
        If no key can be found for a real study, or the key is too short.
    """
    settings = config.pseudonymisation
    from_env = os.environ.get(settings.key_env)
    if from_env:
        try:
            key = bytes.fromhex(from_env.strip())
        except ValueError as exc:
            raise KeyError_(f"environment variable {settings.key_env} is not hexadecimal") from exc
        return _checked(key, f"environment variable {settings.key_env}")
    if settings.key_file:
        path = _resolve(settings.key_file)
        if path.is_file():
            try:
                key = bytes.fromhex(path.read_text().strip())
            except ValueError:
                raise KeyError_(f"{path}: the key file must hold one hexadecimal key") from None
            return _checked(key, str(path))
        if settings.allow_generated_key:
            path.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_bytes(32)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(key.hex() + "\n")
            tmp.chmod(0o600)
            tmp.replace(path)
            return key
    where = f"set {settings.key_env} to a hexadecimal key of 32 bytes (at least 16)"
    if settings.key_file:
        where += f" or create the key file {settings.key_file} (outside the repository)"
    raise KeyError_(f"{config.study}: no pseudonymisation key: {where}")


def key_fingerprint(key: bytes) -> str:
    """A short, non-reversible fingerprint of the key, to tell whether two outputs share it."""
    return hmac.new(key, b"mentor-eval key fingerprint", hashlib.sha256).hexdigest()[:16]


def assert_same_key(key: bytes, recorded: str | None, where: str) -> None:
    """Raise if ``recorded`` (a fingerprint from an upstream manifest) is not this key's.

    Pseudonyms made with different keys never link: this catches a key file that was
    regenerated, or an environment variable set in one shell and not in another.
    """
    if recorded is not None and recorded != key_fingerprint(key):
        raise KeyError_(
            f"{where} was pseudonymised with a different key than the one in use now; "
            "use the same key for every stage (check MENTOR_EVAL_KEY and the key file) or "
            "re-run the earlier stages"
        )


def _checked(key: bytes, source: str) -> bytes:
    if len(key) < 16:
        raise KeyError_(f"{source}: pseudonymisation key must be at least 16 bytes")
    return key


def pseudonymise(
    numbers: Iterable[str | None], key: bytes, country: str = "SE"
) -> list[str | None]:
    """Replace normalised identity numbers by keyed hashes.

    Parameters
    ----------
    numbers : iterable of str or None
        Normalised numbers (see :func:`normalise_personnummer`); None stays None.
    key : bytes
        The study key from :func:`load_key`.
    country : str
        Prefix that keeps numbers of different countries apart.

    Returns
    -------
    list of str or None
        32-character hexadecimal pseudonyms, in input order.
    """
    prefix = f"{country}:".encode()
    out: list[str | None] = []
    for number in numbers:
        if number is None:
            out.append(None)
            continue
        digest = hmac.new(key, prefix + number.encode(), hashlib.sha256).hexdigest()
        out.append(digest[:PSEUDONYM_LENGTH])
    return out
