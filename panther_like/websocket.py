"""``from panther_like.websocket import GenericWebsocket`` keeps working; the code lives in
`panther_like.routing.websocket`.
"""

from panther_like.routing.messaging import close_websocket_connection, send_message_to_user, send_message_to_websocket
from panther_like.routing.websocket import (
    ANY_COOKIE,
    MAX_REASON_BYTES,
    GenericWebsocket,
    WebsocketEndpoint,
    cookies_read_by,
    is_websocket_class,
    logger,
    refuse,
)

__all__ = [
    'ANY_COOKIE',
    'MAX_REASON_BYTES',
    'GenericWebsocket',
    'WebsocketEndpoint',
    'close_websocket_connection',
    'cookies_read_by',
    'is_websocket_class',
    'logger',
    'refuse',
    'send_message_to_user',
    'send_message_to_websocket',
]
