"""What every mailer shares: the message, the failure, and `Mailer.send`, the template method.

Why a template method: the routes that send mail must never fail because
mail did (a reset request still answers 202), so whatever a delivery
raises, a refused recipient, a timeout, a bug in a project's own mailer,
`send` turns into one `MailDeliveryError` with a reason fit for the audit
log: the error's class and SMTP code, never the server's text (which may
echo the address) or the message (which holds a one-time token).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Self

from panther_like.exceptions import ConfigError

#: RFC 5321 section 4.5.3.1.3: a path is at most 256 octets, so an address at most 254.
MAX_ADDRESS_LENGTH = 254
HIDDEN = '<hidden>'


def is_address(text: Any) -> bool:
    """Whether `text` is one plain address (``ann@example.com``): no display name, no second address,
    nothing that could become a header of its own."""
    if not isinstance(text, str) or not 3 <= len(text) <= MAX_ADDRESS_LENGTH:
        return False
    if any(ch.isspace() or ord(ch) < 32 or ch in '<>,;"()' for ch in text):
        return False
    try:
        address = Address(addr_spec=text)
    except (HeaderParseError, ValueError, IndexError):
        return False
    return bool(address.username) and '.' in address.domain.strip('.') and address.addr_spec == text


class MailDeliveryError(Exception):
    """A message could not be handed to the mail system; `reason` is safe to log."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class Message:
    """One plain-text message to one address.

    `sensitive`: the parts of the text that must never reach a log (the
    one-time token, and so the link that carries it); `redacted` hides them.
    """

    to: str
    subject: str
    text: str
    sensitive: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not is_address(self.to):
            raise ValueError('the recipient is not one plain e-mail address')
        if '\r' in self.subject or '\n' in self.subject:
            raise ValueError('a subject is one line')

    def redacted(self) -> Message:
        text = self.text
        for part in self.sensitive:
            if part:
                text = text.replace(part, HIDDEN)
        return replace(self, text=text, sensitive=())

    def as_email(self, sender: str) -> EmailMessage:
        """The RFC 5322 message: an automatic one (RFC 3834), so auto-responders stay quiet."""
        email = EmailMessage()
        email['From'] = sender
        email['To'] = self.to
        email['Subject'] = self.subject
        email['Date'] = formatdate(localtime=False, usegmt=True)
        email['Message-ID'] = make_msgid(domain=sender.rpartition('@')[2] or None)
        email['Auto-Submitted'] = 'auto-generated'
        email.set_content(self.text)
        return email


class Mailer(ABC):
    """Subclass it and implement `deliver`; name the subclass in the ``MAILER`` setting.

    ``MAILER = {'class': 'myproject.mail.MyMailer', 'region': 'eu'}`` builds
    ``MyMailer(region='eu')`` when the app is built; `__init__` checks its
    options and raises `ConfigError` for a wrong one. `deliver` may raise
    anything: `send` reports it as a `MailDeliveryError`.
    """

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        """The mailer the ``MAILER`` setting describes; an option `__init__` does not take is a `ConfigError`."""
        try:
            return cls(**options)
        except TypeError as exc:
            raise ConfigError('MAILER', sorted(options), f'{cls.__qualname__} refused its options ({exc})') from None

    async def send(self, message: Message) -> None:
        try:
            await self.deliver(message)
        except MailDeliveryError:
            raise
        except Exception as exc:
            raise MailDeliveryError(describe_failure(exc)) from None

    @abstractmethod
    async def deliver(self, message: Message) -> None:
        """Hand `message` to the mail system, or raise."""


def describe_failure(exc: BaseException) -> str:
    """``SMTPRecipientsRefused (550)``: what failed, without any text a server or a message supplied."""
    code = getattr(exc, 'code', None)
    refused = getattr(exc, 'recipients', None)  # aiosmtplib's SMTPRecipientsRefused: one error per recipient
    if code is None and isinstance(refused, list) and refused:
        code = getattr(refused[0], 'code', None)
    return f'{type(exc).__name__} ({code})' if isinstance(code, int) else type(exc).__name__


def option_error(name: str, value: Any, reason: str) -> ConfigError:
    """A `ConfigError` for one mailer option; a password is never shown."""
    shown = '<hidden>' if name == 'password' and value is not None else value
    return ConfigError(f'MAILER[{name!r}]', shown, reason)
