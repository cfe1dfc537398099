"""Second factors: TOTP (RFC 6238) and its recovery codes, stored per user.

A user's TOTP factor is one row of `FACTORS_COLLECTION`: ``{_id: user_id,
secret, confirmed, last_step, created}``. It is pending (``confirmed``
False) from ``POST mfa/totp`` until a first good code confirms it; only a
confirmed factor asks for a code at login.

Why the secret is encrypted: a TOTP secret is a password the server must be
able to read back, so a hash will not do; a copy of the database (a backup,
a log of queries) must still not let anyone make codes. It is sealed with
AES-GCM under a key derived (HKDF-SHA256) from ``SECRET_KEY``, with the
user's id as associated data, so a sealed secret copied onto another
user's row does not open. After a ``SECRET_KEY`` rotation the earlier keys
listed in ``ACCOUNTS['previous_secret_keys']`` still open old secrets, and a
secret opened with one is sealed again under the current key on its next
use.

Why codes are good once: a code seen over a shoulder or phished stays valid
for up to 90 seconds (one step either side of now). The row remembers the
last time step a code was accepted for, and a code is accepted only for a
later step, by a conditional update (``last_step < step``) that the store
applies atomically: of two requests with the same code, one wins.

Recovery codes: ten per set, 80 random bits each (16 characters shown as
four groups of four), stored as SHA-256 digests (salted with the user's id)
in `RECOVERY_COLLECTION`, one row each, so using one is a single
``delete_one``, which only one of two racing requests wins. Why not argon2:
argon2 makes a guess cost, which protects secrets people choose; 80 random
bits cannot be guessed offline whatever a guess costs, while a slow hash
would make every login with a recovery code cost ten argon2 runs and give
anyone who can send requests a way to burn the server's CPU. Why not keyed
with ``SECRET_KEY``: the codes would then die with a key rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.db.backend import Database
from panther_like.exceptions import ConfigError
from panther_like.login_state.factor_summary import FactorSummary
from panther_like.settings.config import Config

FACTORS_COLLECTION = 'panther_like_second_factors'
RECOVERY_COLLECTION = 'panther_like_recovery_codes'
TOTP = 'totp'
STEP = 30
DIGITS = 6
RECOVERY_CODES = 10
#: Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand is not misread.
RECOVERY_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
RECOVERY_LENGTH = 16
MFA_EXTRA = "pip install 'panther-like[mfa]'"
_HKDF_INFO = b'panther_like second factor secrets v1'
_SEALED_PREFIX = 'v1.'


def require_mfa_dependencies() -> None:
    """A `ConfigError` naming the extra to install when pyotp, segno or cryptography is missing."""
    for module in ('pyotp', 'segno', 'cryptography.hazmat.primitives.ciphers.aead'):
        try:
            importlib.import_module(module)
        except ImportError:
            raise ConfigError(
                'ACCOUNTS', module.split('.')[0], f'second factors need {module.split(".")[0]}: {MFA_EXTRA}'
            ) from None


# -- secrets at rest ---------------------------------------------------------------------------


class SecretBox:
    """Seals and opens TOTP secrets with keys derived from ``SECRET_KEY`` and its earlier values."""

    def __init__(self, secret_key: str, previous: tuple[str, ...] = ()) -> None:
        self._keys = [_derive(key) for key in (secret_key, *previous)]

    def seal(self, plain: str, user_id: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._keys[0]).encrypt(nonce, plain.encode(), user_id.encode())
        return _SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, user_id: str) -> tuple[str, bool] | None:
        """The secret and whether it was sealed with an earlier key; None if no key opens it."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if not sealed.startswith(_SEALED_PREFIX):
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed[len(_SEALED_PREFIX) :])
        except ValueError:
            return None
        for index, key in enumerate(self._keys):
            try:
                plain = AESGCM(key).decrypt(raw[:12], raw[12:], user_id.encode())
            except (InvalidTag, ValueError):
                continue
            return plain.decode(), index > 0
        return None


def _derive(secret_key: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret_key.encode())


# -- codes -------------------------------------------------------------------------------------


def totp_code(secret: str, step: int) -> str:
    """The code of time step `step` (RFC 6238: 30-second steps, 6 digits, HMAC-SHA1)."""
    import pyotp

    code: str = pyotp.TOTP(secret, digits=DIGITS, interval=STEP).at(step * STEP)
    return code


def normalize_code(code: Any) -> str | None:
    """Six digits, spaces allowed between them; anything else is None."""
    if not isinstance(code, str) or len(code) > 32:
        return None
    digits = code.replace(' ', '')
    return digits if len(digits) == DIGITS and digits.isascii() and digits.isdigit() else None


def normalize_recovery_code(code: Any) -> str | None:
    """Sixteen characters of the alphabet, in any case, with or without dashes and spaces; else None."""
    if not isinstance(code, str) or len(code) > 64:
        return None
    plain = code.replace('-', '').replace(' ', '').upper()
    if len(plain) != RECOVERY_LENGTH or any(char not in RECOVERY_ALPHABET for char in plain):
        return None
    return plain


def _recovery_digest(user_id: str, plain: str) -> str:
    return hashlib.sha256(f'{user_id}\x00{plain}'.encode()).hexdigest()


def _new_recovery_code() -> str:
    plain = ''.join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
    return '-'.join(plain[i : i + 4] for i in range(0, RECOVERY_LENGTH, 4))


@dataclass(frozen=True, slots=True)
class NewTOTP:
    """What ``POST mfa/totp`` shows once: the secret, its otpauth URI and that URI as a QR code (SVG)."""

    secret: str
    otpauth_uri: str
    qr_svg: str


# -- the store ---------------------------------------------------------------------------------


class SecondFactors:
    """The second factors of one app's users; see the module docstring."""

    def __init__(
        self, config: Config, database: Database, summary: FactorSummary, *, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self._config = config
        self._database = database
        self._summary = summary
        self._clock = clock
        self._box: SecretBox | None = None
        self._index_ready = False

    @property
    def box(self) -> SecretBox:
        if self._box is None:
            require_mfa_dependencies()
            if not self._config.secret_key:
                raise ConfigError(
                    'SECRET_KEY', None, 'second factors need SECRET_KEY: their secrets are sealed with it'
                )
            self._box = SecretBox(self._config.secret_key, self._config.accounts.previous_secret_keys)
        return self._box

    def _factors(self) -> Any:
        return self._database.collection(FACTORS_COLLECTION, durable=True)

    async def _recovery(self) -> Any:
        rows = self._database.collection(RECOVERY_COLLECTION, durable=True)
        if not self._index_ready:
            await rows.create_index('user_id')
            self._index_ready = True
        return rows

    def _step(self) -> int:
        return int(self._clock.time() // STEP)

    # -- TOTP ----------------------------------------------------------------------------------

    async def begin_totp(self, user_id: str, username: str) -> NewTOTP:
        """A new pending TOTP secret for the user, replacing a pending one; the caller refuses a confirmed one."""
        import pyotp
        import segno

        box = self.box
        secret = pyotp.random_base32()
        row = {
            'secret': box.seal(secret, user_id),
            'confirmed': False,
            'last_step': -1,
            'created': self._clock.time(),
            'trust_epoch': secrets.token_hex(8),  # a factor set up again never revives an old trusted browser
        }
        rows = self._factors()
        if not await rows.update_one({'_id': user_id, 'confirmed': False}, row):
            await rows.insert_one({'_id': user_id, **row})  # a confirmed row makes this a DuplicateKeyError
        issuer = self._config.accounts.totp_issuer
        uri = (
            f'otpauth://totp/{quote(issuer)}:{quote(username)}'
            f'?secret={secret}&issuer={quote(issuer)}&algorithm=SHA1&digits={DIGITS}&period={STEP}'
        )
        svg: str = segno.make(uri, error='m').svg_inline(scale=4)
        return NewTOTP(secret, uri, svg)

    async def confirmed(self, user_id: str) -> bool:
        """Whether the user has a confirmed factor: a login then asks for a code."""
        return await self._factors().find_one({'_id': user_id, 'confirmed': True}) is not None

    async def verify_totp(self, user_id: str, code: Any, *, confirming: bool = False) -> bool:
        """Whether `code` is good now for the user's factor (the pending one when `confirming`), and use it up."""
        digits = normalize_code(code)
        row = await self._factors().find_one({'_id': user_id, 'confirmed': not confirming})
        if digits is None or row is None or not isinstance(row.get('secret'), str):
            return False
        opened = self.box.open(row['secret'], user_id)
        if opened is None:
            return False
        secret, stale_key = opened
        now = self._step()
        for step in (now, now - 1, now + 1):
            if step > row.get('last_step', -1) and hmac.compare_digest(totp_code(secret, step), digits):
                break
        else:
            return False
        used: dict[str, Any] = {'last_step': step}
        if confirming:
            used['confirmed'] = True
        if stale_key:
            used['secret'] = self.box.seal(secret, user_id)
        if confirming:
            await self._summary.adding(user_id)
        # The conditional update is the replay guard: one request wins a step, and no earlier step follows it.
        accepted = bool(
            await self._factors().update_one(
                {'_id': user_id, 'confirmed': not confirming, 'last_step': {'$lt': step}}, used
            )
        )
        if confirming and accepted:
            await self._summary.adding(user_id)
        return accepted

    async def trust_epoch(self, user_id: str) -> str | None:
        """What a trusted browser's cookie must name (`panther_like.login_state.trusted_browsers`); None without a
        confirmed factor."""
        row = await self._factors().find_one({'_id': user_id, 'confirmed': True})
        epoch = None if row is None else row.get('trust_epoch')
        return epoch if isinstance(epoch, str) else None

    async def forget_trusted_browsers(self, user_id: str) -> None:
        """Every browser trusted so far asks for a code again."""
        await self._factors().update_one({'_id': user_id}, {'trust_epoch': secrets.token_hex(8)})

    async def remove(self, user_id: str, *, keep_recovery_codes: bool = False) -> bool:
        """Forget the user's TOTP factor and (unless another factor still needs them) recovery codes.

        Whether there was a TOTP factor.
        """
        removed = bool(await self._factors().delete_one({'_id': user_id}))
        if not keep_recovery_codes:
            await self.forget_recovery_codes(user_id)
        if removed:
            await self._summary.removed(user_id)
        return removed

    async def forget_recovery_codes(self, user_id: str) -> None:
        """Every recovery code of the user stops working: the user has no second factor left for them to replace."""
        await (await self._recovery()).delete_many({'user_id': user_id})

    # -- recovery codes --------------------------------------------------------------------------

    async def new_recovery_codes(self, user_id: str) -> list[str]:
        """A new set of codes, shown once; the earlier set stops working."""
        rows = await self._recovery()
        await rows.delete_many({'user_id': user_id})
        codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
        for code in codes:
            plain = code.replace('-', '')
            await rows.insert_one({'_id': _recovery_digest(user_id, plain), 'user_id': user_id})
        return codes

    async def use_recovery_code(self, user_id: str, code: Any) -> bool:
        """Whether `code` is one of the user's unused recovery codes; it is used up (once, even under a race)."""
        plain = normalize_recovery_code(code)
        if plain is None:
            return False
        rows = await self._recovery()
        return bool(await rows.delete_one({'_id': _recovery_digest(user_id, plain), 'user_id': user_id}))

    async def status(self, user_id: str) -> dict[str, Any]:
        """What ``GET mfa`` shows: the factors (never a secret) and how many recovery codes remain."""
        row = await self._factors().find_one({'_id': user_id})
        factors = (
            [] if row is None else [{'type': TOTP, 'confirmed': bool(row['confirmed']), 'created': row['created']}]
        )
        remaining = await (await self._recovery()).count({'user_id': user_id})
        return {'factors': factors, 'recovery_codes_remaining': remaining}
