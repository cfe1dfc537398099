"""Mail: the ``MAILER`` setting names the class that sends it.

`ConsoleMailer` (the default) prints each message, with its one-time links
hidden unless ``show_tokens=True``; `SMTPMailer` sends it to an SMTP
server with TLS. A project's own mailer subclasses `Mailer`. Routes hand
messages to the app's `Outbox`, which sends them after the response.
"""

from panther_like.mail.base import MailDeliveryError, Mailer, Message, is_address
from panther_like.mail.console import ConsoleMailer
from panther_like.mail.outbox import Outbox
from panther_like.mail.smtp import SMTPMailer

__all__ = ['ConsoleMailer', 'MailDeliveryError', 'Mailer', 'Message', 'Outbox', 'SMTPMailer', 'is_address']
